package io.pgtrickle.relay.source.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.relay.config.KafkaEndpoint;
import io.pgtrickle.relay.config.Secret;
import io.pgtrickle.relay.config.SourceConfig;
import io.pgtrickle.relay.source.InboundMessage;
import io.pgtrickle.relay.source.SourceException;
import io.pgtrickle.relay.testing.KafkaTestCluster;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class KafkaEventSourceIT {
    private static KafkaTestCluster kafka;
    private static KafkaProducer<byte[], byte[]> producer;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = KafkaTestCluster.start();
        producer = new KafkaProducer<>(kafka.producerProperties());
    }

    @AfterAll
    static void stopKafka() throws Exception {
        producer.close();
        kafka.close();
    }

    @Test
    void readsEveryPartitionFromTheStartAndReportsCoordinatesKeysAndHeaders() throws Exception {
        kafka.createTopic("start", 2);
        ProducerRecord<byte[], byte[]> first = record("start", 1, "k1", "v1");
        first.headers().add("event_id", bytes("e-first")).add("event_id", bytes("e-last"));
        producer.send(first).get();
        producer.send(record("start", 0, null, "v0")).get();

        try (KafkaEventSource source = source(List.of("start"))) {
            source.open(Map.of());
            List<InboundMessage> got = pollUntil(source, 2);

            InboundMessage m1 = got.stream().filter(m -> m.partition().equals("start-1")).findFirst().orElseThrow();
            assertThat(m1.source()).isEqualTo("start");
            assertThat(m1.position()).isEqualTo("0");
            assertThat(m1.coordinates()).isEqualTo("kafka:start/1/0");
            assertThat(new String(m1.key(), StandardCharsets.UTF_8)).isEqualTo("k1");
            assertThat(new String(m1.value(), StandardCharsets.UTF_8)).isEqualTo("v1");
            assertThat(m1.headers()).containsExactlyEntriesOf(Map.of("event_id", "e-last"));
            assertThat(m1.timestamp()).isNotNull();
            InboundMessage m0 = got.stream().filter(m -> m.partition().equals("start-0")).findFirst().orElseThrow();
            assertThat(m0.key()).isNull();
            assertThat(m0.coordinates()).isEqualTo("kafka:start/0/0");
        }
    }

    @Test
    void resumesRightAfterTheCommittedPositionOfEachPartition() throws Exception {
        kafka.createTopic("resume", 2);
        for (int i = 0; i < 5; i++) {
            producer.send(record("resume", 0, "a" + i, "p0-" + i)).get();
            producer.send(record("resume", 1, "b" + i, "p1-" + i)).get();
        }

        try (KafkaEventSource source = source(List.of("resume"))) {
            source.open(Map.of("resume-0", "2")); // partition 1 has nothing committed: from its start
            List<InboundMessage> got = pollUntil(source, 7);

            assertThat(got).filteredOn(m -> m.partition().equals("resume-0")).extracting(InboundMessage::position)
                    .containsExactly("3", "4");
            assertThat(got).filteredOn(m -> m.partition().equals("resume-1")).extracting(InboundMessage::position)
                    .containsExactly("0", "1", "2", "3", "4");
            assertThat(source.poll(10, Duration.ofMillis(300))).isEmpty();
        }
    }

    @Test
    void handsOutAtMostMaxMessagesPerPollAndLosesNoneOfTheRest() throws Exception {
        kafka.createTopic("max", 1);
        for (int i = 0; i < 10; i++) {
            producer.send(record("max", 0, null, "m" + i));
        }
        producer.flush();

        try (KafkaEventSource source = source(List.of("max"))) {
            source.open(Map.of());
            List<InboundMessage> got = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
            while (got.size() < 10 && System.nanoTime() < deadline) {
                List<InboundMessage> batch = source.poll(3, Duration.ofMillis(500));
                assertThat(batch.size()).isLessThanOrEqualTo(3);
                got.addAll(batch);
            }
            assertThat(got).extracting(InboundMessage::position)
                    .containsExactly("0", "1", "2", "3", "4", "5", "6", "7", "8", "9");
        }
    }

    @Test
    void picksUpRecordsAndPartitionsAddedAfterOpen() throws Exception {
        kafka.createTopic("later", 1);
        try (KafkaEventSource source = new KafkaEventSource(config(List.of("later")), Duration.ofMillis(200))) {
            source.open(Map.of());
            assertThat(source.poll(10, Duration.ofMillis(300))).isEmpty();

            producer.send(record("later", 0, null, "after open")).get();
            assertThat(pollUntil(source, 1)).extracting(InboundMessage::coordinates).containsExactly("kafka:later/0/0");

            try (Admin admin = kafka.admin()) {
                admin.createPartitions(Map.of("later", NewPartitions.increaseTo(2))).all().get();
            }
            producer.send(record("later", 1, null, "new partition")).get();
            assertThat(pollUntil(source, 1)).extracting(InboundMessage::coordinates).containsExactly("kafka:later/1/0");
        }
    }

    @Test
    void abortedTransactionsAreNotRead() throws Exception {
        kafka.createTopic("txn", 1);
        Properties p = kafka.producerProperties();
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "txn-source-test");
        try (KafkaProducer<byte[], byte[]> tx = new KafkaProducer<>(p)) {
            tx.initTransactions();
            tx.beginTransaction();
            tx.send(record("txn", 0, null, "aborted"));
            tx.abortTransaction();
            tx.beginTransaction();
            tx.send(record("txn", 0, null, "committed"));
            tx.commitTransaction();
        }

        try (KafkaEventSource source = source(List.of("txn"))) {
            source.open(Map.of());
            List<InboundMessage> got = pollUntil(source, 1);
            assertThat(got).extracting(m -> new String(m.value(), StandardCharsets.UTF_8)).containsExactly("committed");
            assertThat(source.poll(10, Duration.ofMillis(300))).isEmpty();
        }
    }

    @Test
    void anUnreachableBrokerGivesARetriableErrorNamingIt() throws Exception {
        String nowhere = "127.0.0.1:" + freePort();
        SourceConfig.Kafka config = new SourceConfig.Kafka(new KafkaEndpoint(nowhere,
                Map.of("default.api.timeout.ms", new Secret("1500"), "request.timeout.ms", new Secret("1000"))),
                List.of("orders"));
        long start = System.nanoTime();
        try (KafkaEventSource source = new KafkaEventSource(config)) {
            assertThatThrownBy(() -> source.open(Map.of()))
                    .isInstanceOfSatisfying(SourceException.class, e -> assertThat(e.retriable()).isTrue())
                    .hasMessageContaining(nowhere).hasMessageContaining("1500 ms");
        }
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(10_000);
    }

    private static List<InboundMessage> pollUntil(KafkaEventSource source, int count) throws SourceException {
        List<InboundMessage> got = new ArrayList<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (got.size() < count && System.nanoTime() < deadline) {
            got.addAll(source.poll(100, Duration.ofMillis(200)));
        }
        assertThat(got).hasSize(count);
        return got;
    }

    private static KafkaEventSource source(List<String> topics) {
        return new KafkaEventSource(config(topics));
    }

    private static SourceConfig.Kafka config(List<String> topics) {
        return new SourceConfig.Kafka(new KafkaEndpoint(kafka.bootstrapServers(), Map.of()), topics);
    }

    private static ProducerRecord<byte[], byte[]> record(String topic, int partition, String key, String value) {
        return new ProducerRecord<>(topic, partition, key == null ? null : bytes(key), bytes(value));
    }

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
