package io.pgtrickle.relay.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.relay.testing.KafkaTestCluster;
import io.pgtrickle.relay.testing.Positions;
import io.pgtrickle.relay.testing.ReadyEndpoint;
import io.pgtrickle.relay.testing.RelayProcess;
import io.pgtrickle.relay.testing.TargetCleanup;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The relay jar as a child process, SIGKILLed at random points while the engine (in this JVM)
 * refreshes a stream table under a steady stream of writes, then restarted; at the end an
 * independent consumer of each target (read_committed on Kafka, XRANGE on Redis, reading the
 * JetStream stream by sequence on NATS) sees every outbox change exactly once, in outbox order (so in order per key).
 * The seed ({@code -Dpgtrickle.seed}) reproduces the kill times and the writes.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class RelayCrashIT {
    private static final long SEED = Long.getLong("pgtrickle.seed", 20261202L);
    private static final int KILLS = Integer.getInteger("pgtrickle.relay.kills", 4);
    private static final String NATS_URL = "nats://127.0.0.1:4222";

    private final TestDatabase db;

    RelayCrashIT(TestDatabase db) {
        this.db = db;
    }

    @Test
    void everyChangeReachesKafkaRedisAndNatsExactlyOnceInOrderAcrossKills(@TempDir Path dir) throws Exception {
        try (KafkaTestCluster kafka = KafkaTestCluster.start()) {
            run(dir, kafka);
        }
    }

    private void run(Path dir, KafkaTestCluster kafka) throws Exception {
        Random random = new Random(SEED);
        String suffix = Long.toString(Math.abs(random.nextLong()), 36);
        String redisKey = "pgt-crash-" + suffix + ":{stream_table}";
        String natsStream = "PGTCRASH" + suffix.toUpperCase();
        String natsSubject = "pgtcrash" + suffix + ".{stream_table}.{op}";
        String kafkaTopic = "pgtcrash-" + suffix + ".totals";
        db.execute("CREATE TABLE events (id bigserial PRIMARY KEY, k int NOT NULL, v int NOT NULL)");
        Path config = dir.resolve("relay.toml");
        Files.writeString(config, """
                postgres_url = "%s"
                metrics_addr = "127.0.0.1:%d"
                relay_group_id = "crash"

                [[pipeline]]
                name = "to-redis"
                direction = "forward"
                batch_size = 50
                retry_initial_backoff = "100ms"
                retry_max_backoff = "1s"
                [pipeline.source]
                stream_table = "totals"
                [pipeline.sink]
                type = "redis"
                url = "redis://127.0.0.1:6379"
                stream_key = "%s"

                [[pipeline]]
                name = "to-nats"
                direction = "forward"
                batch_size = 50
                retry_initial_backoff = "100ms"
                retry_max_backoff = "1s"
                [pipeline.source]
                stream_table = "totals"
                [pipeline.sink]
                type = "nats"
                url = "nats://127.0.0.1:4222"
                stream = "%s"
                subject = "%s"

                [[pipeline]]
                name = "to-kafka"
                direction = "forward"
                batch_size = 50
                retry_initial_backoff = "100ms"
                retry_max_backoff = "1s"
                [pipeline.source]
                stream_table = "totals"
                [pipeline.sink]
                type = "kafka"
                bootstrap_servers = "%s"
                topic = "%s"
                """.formatted(db.jdbcUrl(), ReadyEndpoint.freePort(), redisKey, natsStream, natsSubject, kafka.bootstrapServers(),
                kafkaTopic));

        EngineConfig engineConfig = EngineConfig.of(db.jdbcUrl()).withSlotName("pgtrickle_" + db.name())
                .withSchedulerTick(Duration.ofMillis(100));
        try (PgTrickleEngine engine = PgTrickleEngine.open(engineConfig).start()) {
            engine.streamTables().create(StreamTableSpec.parse("totals",
                    "SELECT k, sum(v) AS total, count(*) AS n FROM events GROUP BY k", "250ms", "DIFFERENTIAL"));
            engine.outboxes().enable("totals", 24, 20);
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writer = new Thread(() -> write(writing, new Random(SEED + 1)), "writer");
            writer.start();
            try {
                for (int kill = 0; kill < KILLS; kill++) {
                    try (RelayProcess relay = RelayProcess.start(config, dir.resolve("relay.log"))) {
                        Thread.sleep(1500 + random.nextInt(3000));
                        assertThat(relay.alive()).as("relay died by itself:\n%s", relay.output()).isTrue();
                        relay.kill();
                    }
                }
            } finally {
                writing.set(false);
                writer.join();
            }
            // The last writes reach the outbox: the stream table refreshes until its window is empty.
            Thread.sleep(1500);
            List<String> expected = Positions.inOutbox(db, "public.totals");
            assertThat(expected).hasSizeGreaterThan(50);
            try (RelayProcess relay = RelayProcess.start(config, dir.resolve("relay.log"))) {
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
                while ((redisPositions(redisKey).size() < expected.size()
                        || natsPositions(natsStream).size() < expected.size()
                        || kafkaPositions(kafka, kafkaTopic).size() < expected.size()) && System.nanoTime() < deadline) {
                    Thread.sleep(200);
                }
                assertThat(relay.stop(Duration.ofSeconds(30))).as(relay.output()).isZero();
            }
            System.out.printf("RelayCrashIT seed %d: %d kills, %d outbox changes checked on Kafka, Redis and NATS%n", SEED, KILLS,
                    expected.size());
            assertThat(redisPositions(redisKey)).as("Redis: every change once, in outbox order").isEqualTo(expected);
            assertThat(natsPositions(natsStream)).as("NATS: every change once, in outbox order").isEqualTo(expected);
            assertThat(kafkaPositions(kafka, kafkaTopic)).as("Kafka (read_committed): every change once, in outbox order")
                    .isEqualTo(expected);
        } finally {
            cleanUp(redisKey, natsStream);
        }
    }

    private void write(AtomicBoolean writing, Random random) {
        try (java.sql.Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("INSERT INTO events (k, v) VALUES (?, ?)")) {
            while (writing.get()) {
                ps.setInt(1, random.nextInt(20));
                ps.setInt(2, random.nextInt(100) - 20);
                ps.executeUpdate();
                Thread.sleep(5);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> redisPositions(String template) {
        return Positions.inRedis("127.0.0.1", 6379, template.replace("{stream_table}", "totals"));
    }

    private static List<String> kafkaPositions(KafkaTestCluster kafka, String topic) {
        return Positions.inKafka(kafka, topic);
    }

    private static List<String> natsPositions(String stream) throws Exception {
        return Positions.inNats(NATS_URL, stream);
    }

    private static void cleanUp(String redisKey, String natsStream) {
        TargetCleanup.redisKey("127.0.0.1", 6379, redisKey.replace("{stream_table}", "totals"));
        TargetCleanup.natsStream(NATS_URL, natsStream);
    }
}
