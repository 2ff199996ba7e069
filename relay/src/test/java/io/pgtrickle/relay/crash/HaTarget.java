package io.pgtrickle.relay.crash;

import io.pgtrickle.relay.testing.KafkaTestCluster;
import io.pgtrickle.relay.testing.Positions;
import io.pgtrickle.relay.testing.TargetCleanup;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;

/**
 * The forward targets the failover and PostgreSQL-restart proofs run against: each writes its
 * {@code [pipeline.sink]} block for a destination of its own and reads back what that destination
 * holds with an independent consumer (read_committed on Kafka, by sequence on JetStream, XRANGE on Redis).
 */
enum HaTarget {
    /** A transactional producer into the test class's in-process cluster (topics die with it). */
    KAFKA {
        @Override
        Destination destination(String id, KafkaTestCluster kafka) {
            String topic = "pgt-" + id + ".totals";
            return new Destination("""
                    type = "kafka"
                    bootstrap_servers = "%s"
                    topic = "%s"
                    """.formatted(kafka.bootstrapServers(), topic), () -> Positions.inKafka(kafka, topic), () -> { });
        }
    },
    /** A stream the relay creates at 127.0.0.1:4222, deleted afterwards. */
    NATS {
        @Override
        Destination destination(String id, KafkaTestCluster kafka) {
            String stream = "PGT_" + id.toUpperCase(Locale.ROOT).replace('-', '_');
            return new Destination("""
                    type = "nats"
                    url = "%s"
                    stream = "%s"
                    subject = "pgt%s.{stream_table}.{op}"
                    """.formatted(NATS_URL, stream, id), () -> Positions.inNats(NATS_URL, stream),
                    () -> TargetCleanup.natsStream(NATS_URL, stream));
        }
    },
    /** A stream key at 127.0.0.1:6379, deleted afterwards. */
    REDIS {
        @Override
        Destination destination(String id, KafkaTestCluster kafka) {
            String key = "pgt-" + id + ":totals";
            return new Destination("""
                    type = "redis"
                    url = "redis://127.0.0.1:6379"
                    stream_key = "%s"
                    """.formatted(key), () -> Positions.inRedis("127.0.0.1", 6379, key),
                    () -> TargetCleanup.redisKey("127.0.0.1", 6379, key));
        }
    };

    private static final String NATS_URL = "nats://127.0.0.1:4222";

    /** A destination named after {@code id} (lower-case letters, digits and dashes) for stream table {@code totals}. */
    abstract Destination destination(String id, KafkaTestCluster kafka);

    /** The pipeline's name, {@code to-kafka} say: /ready prints it. */
    String pipeline() {
        return "to-" + name().toLowerCase(Locale.ROOT);
    }

    /** One test's destination: its sink block, a reader of the positions it holds, and its removal. */
    record Destination(String sinkToml, Callable<List<String>> reader, Runnable cleanUp) {
        /** The {@code pgt_position} of every change the destination holds, in its order. */
        List<String> positions() throws Exception {
            return reader.call();
        }
    }
}
