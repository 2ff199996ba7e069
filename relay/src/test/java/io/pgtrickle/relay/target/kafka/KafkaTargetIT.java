package io.pgtrickle.relay.target.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.format.EncodedMessage;
import io.pgtrickle.format.Headers;
import io.pgtrickle.format.Template;
import io.pgtrickle.relay.config.KafkaEndpoint;
import io.pgtrickle.relay.config.Secret;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.target.OutboundMessage;
import io.pgtrickle.relay.target.PublishResult;
import io.pgtrickle.relay.target.TargetException;
import io.pgtrickle.relay.testing.KafkaTestCluster.Record;
import io.pgtrickle.relay.testing.KafkaTestCluster;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class KafkaTargetIT {
    private static KafkaTestCluster kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = KafkaTestCluster.start();
    }

    @AfterAll
    static void stopKafka() throws Exception {
        kafka.close();
    }

    @Test
    void publishesABatchThatAReadCommittedConsumerSeesInOrderWithKeysAndHeaders() throws Exception {
        try (KafkaTarget target = target("pub.{stream_table}", "pub-tx", "orders")) {
            target.open();
            List<OutboundMessage> batch = List.of(message("pub.orders", 5, 0, "insert", "{\"id\":1}"),
                    message("pub.orders", 5, 1, "update", "{\"id\":2}"),
                    message("pub.orders", 5, 2, "delete", "{\"id\":1}"));

            assertThat(target.publish(batch)).isEqualTo(new PublishResult(3, 0));
        }

        List<Record> records = kafka.readCommitted("pub.orders");
        assertThat(records).extracting(Record::key).containsExactly("{\"id\":1}", "{\"id\":2}", "{\"id\":1}");
        assertThat(records).extracting(Record::value).containsExactly("value 5:0", "value 5:1", "value 5:2");
        assertThat(records.get(1).headers()).containsEntry(Headers.POSITION, "5:1")
                .containsEntry(Headers.DEDUP_KEY, "orders:5:1").containsEntry(Headers.OP, "update");
    }

    @Test
    void aNewTargetFindsNothingPublishedInAnEmptyTopic() throws Exception {
        try (KafkaTarget target = target("empty.{stream_table}", "empty-tx", "orders")) {
            target.open();
            assertThat(target.lastPublished()).isEmpty();
        }
    }

    @Test
    void aNewTargetAfterCloseRecoversTheLastPublishedPositionAcrossPartitions() throws Exception {
        kafka.createTopic("rec.orders", 3);
        try (KafkaTarget target = target("rec.{stream_table}", "rec-tx", "orders")) {
            target.open();
            for (int offset = 1; offset <= 4; offset++) {
                List<OutboundMessage> batch = new ArrayList<>();
                for (int row = 0; row < 5; row++) {
                    batch.add(message("rec.orders", offset, row, "insert", "{\"id\":" + (offset * 10 + row) + "}"));
                }
                target.publish(batch);
            }
        }

        try (KafkaTarget again = target("rec.{stream_table}", "rec-tx", "orders")) {
            again.open();
            assertThat(again.lastPublished()).contains(new OutboxPosition(4, 4));
        }
        assertThat(kafka.readCommitted("rec.orders")).hasSize(20).extracting(Record::partition).contains(0, 1, 2);
    }

    @Test
    void aTemplateWithOpRecoversTheHighestPositionOverItsThreeTopics() throws Exception {
        try (KafkaTarget target = target("ops.{stream_table}.{op}", "ops-tx", "orders")) {
            target.open();
            assertThat(target.topics()).containsExactly("ops.orders.insert", "ops.orders.update", "ops.orders.delete");
            target.publish(List.of(message("ops.orders.delete", 1, 0, "delete", "{\"id\":1}"),
                    message("ops.orders.update", 1, 1, "update", "{\"id\":2}")));
            // The highest position lands in the first topic of the three, the lower ones after it.
            target.publish(List.of(message("ops.orders.update", 2, 0, "update", "{\"id\":3}"),
                    message("ops.orders.delete", 2, 1, "delete", "{\"id\":4}"),
                    message("ops.orders.insert", 2, 2, "insert", "{\"id\":5}")));
        }

        try (KafkaTarget again = target("ops.{stream_table}.{op}", "ops-tx", "orders")) {
            again.open();
            assertThat(again.lastPublished()).contains(new OutboxPosition(2, 2));
        }
    }

    @Test
    void recordsOfOtherProducersWithoutAPositionAreSteppedOver() throws Exception {
        try (KafkaTarget target = target("shared.{stream_table}", "shared-tx", "orders")) {
            target.open();
            target.publish(List.of(message("shared.orders", 7, 0, "insert", "{\"id\":1}"),
                    message("shared.orders", 7, 1, "insert", "{\"id\":2}")));
        }
        try (KafkaProducer<byte[], byte[]> other = new KafkaProducer<>(kafka.producerProperties())) {
            for (int i = 0; i < 20; i++) {
                other.send(new ProducerRecord<>("shared.orders", bytes("other"), bytes("no position header"))).get();
            }
        }

        try (KafkaTarget again = target("shared.{stream_table}", "shared-tx", "orders")) {
            again.open();
            assertThat(again.lastPublished()).contains(new OutboxPosition(7, 1));
        }
    }

    @Test
    void abortedAndAbandonedTransactionsAreInvisibleAndNotCounted() throws Exception {
        try (KafkaTarget target = target("abort.{stream_table}", "abort-tx", "orders")) {
            target.open();
            target.publish(List.of(message("abort.orders", 1, 0, "insert", "{\"id\":1}"),
                    message("abort.orders", 1, 1, "insert", "{\"id\":2}")));
        }
        // A relay that died mid-batch many times: more aborted records and markers than one window.
        Properties p = kafka.producerProperties();
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "abort-tx");
        try (KafkaProducer<byte[], byte[]> rogue = new KafkaProducer<>(p)) {
            rogue.initTransactions();
            for (int t = 0; t < 10; t++) {
                rogue.beginTransaction();
                for (int row = 0; row < 3; row++) {
                    rogue.send(rawRecord("abort.orders", (100 + t) + ":" + row)).get();
                }
                rogue.abortTransaction();
            }
        }
        KafkaProducer<byte[], byte[]> killed = new KafkaProducer<>(p);
        killed.initTransactions();
        killed.beginTransaction();
        killed.send(rawRecord("abort.orders", "999:0")).get();
        killed.close(java.time.Duration.ZERO); // never commits: like a SIGKILL mid-transaction

        try (KafkaTarget again = target("abort.{stream_table}", "abort-tx", "orders")) {
            again.open(); // fences the killed producer and aborts its transaction
            assertThat(again.lastPublished()).contains(new OutboxPosition(1, 1));
            again.publish(List.of(message("abort.orders", 2, 0, "insert", "{\"id\":3}")));
            assertThat(again.lastPublished()).contains(new OutboxPosition(2, 0));
        }
        assertThat(kafka.readCommitted("abort.orders")).extracting(r -> r.headers().get(Headers.POSITION))
                .containsExactly("1:0", "1:1", "2:0");
    }

    @Test
    void aBatchWithAMessageTheBrokerRefusesIsNotPublishedAtAll() throws Exception {
        SinkConfig.Kafka config = new SinkConfig.Kafka(new KafkaEndpoint(kafka.bootstrapServers(),
                Map.of("max.request.size", new Secret("2000"))), new Template("big.{stream_table}"), "big-tx");
        try (KafkaTarget target = new KafkaTarget(config, "orders")) {
            target.open();
            OutboundMessage small = message("big.orders", 1, 0, "insert", "{\"id\":1}");
            OutboundMessage large = new OutboundMessage("big.orders", new EncodedMessage("{\"id\":2}", "x".repeat(5000),
                    Map.of(Headers.POSITION, "1:1")), new OutboxPosition(1, 1), "orders:1:1");

            assertThatThrownBy(() -> target.publish(List.of(small, large)))
                    .isInstanceOfSatisfying(TargetException.class, e -> assertThat(e.retriable()).isFalse())
                    .hasMessageContaining("publishing 2 messages from 1:0 to 1:1")
                    .hasMessageContaining("max.request.size");
        }
        assertThat(kafka.readCommitted("big.orders")).isEmpty();
        try (KafkaTarget again = target("big.{stream_table}", "big-tx", "orders")) {
            again.open();
            assertThat(again.lastPublished()).isEmpty();
        }
    }

    @Test
    void openingASecondTargetWithTheSameTransactionalIdFencesTheFirst() throws Exception {
        try (KafkaTarget first = target("fence.{stream_table}", "fence-tx", "orders");
             KafkaTarget second = target("fence.{stream_table}", "fence-tx", "orders")) {
            first.open();
            first.publish(List.of(message("fence.orders", 1, 0, "insert", "{\"id\":1}")));
            second.open();

            assertThatThrownBy(() -> first.publish(List.of(message("fence.orders", 2, 0, "insert", "{\"id\":2}"))))
                    .isInstanceOfSatisfying(TargetException.class, e -> assertThat(e.retriable()).isFalse())
                    .hasMessageContaining("another relay took over the pipeline")
                    .hasMessageContaining("fence-tx");
            assertThat(second.publish(List.of(message("fence.orders", 2, 0, "insert", "{\"id\":2}"))))
                    .isEqualTo(new PublishResult(1, 0));
        }
        assertThat(kafka.readCommitted("fence.orders")).extracting(r -> r.headers().get(Headers.POSITION))
                .containsExactly("1:0", "2:0");
    }

    @Test
    void unreachableBootstrapServersGiveARetriableErrorNamingThemWithinTheTimeout() throws Exception {
        String nowhere = "127.0.0.1:" + freePort();
        SinkConfig.Kafka config = new SinkConfig.Kafka(new KafkaEndpoint(nowhere, Map.of(
                "max.block.ms", new Secret("1500"), "default.api.timeout.ms", new Secret("1500"),
                "request.timeout.ms", new Secret("1000"))), new Template("x.{stream_table}"), "nowhere-tx");
        long start = System.nanoTime();
        try (KafkaTarget target = new KafkaTarget(config, "orders")) {
            assertThatThrownBy(target::open)
                    .isInstanceOfSatisfying(TargetException.class, e -> assertThat(e.retriable()).isTrue())
                    .hasMessageContaining(nowhere).hasMessageContaining("1500 ms")
                    .hasMessageContaining("is the broker running");
        }
        assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(10_000);
    }

    @Test
    void aBrokerThatGoesAwayMidRunGivesARetriablePublishFailureWithinTheTimeout() throws Exception {
        KafkaTestCluster doomed = KafkaTestCluster.start();
        Map<String, Secret> quick = Map.of("max.block.ms", new Secret("1500"), "request.timeout.ms", new Secret("1000"),
                "delivery.timeout.ms", new Secret("1500"), "default.api.timeout.ms", new Secret("1500"));
        try (KafkaTarget target = new KafkaTarget(new SinkConfig.Kafka(new KafkaEndpoint(doomed.bootstrapServers(), quick),
                new Template("gone.{stream_table}"), "gone-tx"), "orders")) {
            target.open();
            target.publish(List.of(message("gone.orders", 1, 0, "insert", "{\"id\":1}")));
            doomed.close();

            long start = System.nanoTime();
            assertThatThrownBy(() -> target.publish(List.of(message("gone.orders", 2, 0, "insert", "{\"id\":2}"))))
                    .isInstanceOfSatisfying(TargetException.class, e -> assertThat(e.retriable()).isTrue())
                    .hasMessageContaining("publishing 1 messages from 2:0 to 2:0");
            assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(15_000);
        } finally {
            doomed.close();
        }
    }

    private static KafkaTarget target(String template, String transactionalId, String streamTable) {
        return new KafkaTarget(new SinkConfig.Kafka(new KafkaEndpoint(kafka.bootstrapServers(), Map.of()),
                new Template(template), transactionalId), streamTable);
    }

    private static OutboundMessage message(String topic, long offset, int row, String op, String key) {
        OutboxPosition position = new OutboxPosition(offset, row);
        String dedupKey = "orders:" + offset + ":" + row;
        EncodedMessage m = new EncodedMessage(key, "value " + position, Map.of(Headers.DEDUP_KEY, dedupKey,
                Headers.POSITION, position.toString(), Headers.OP, op));
        return new OutboundMessage(topic, m, position, dedupKey);
    }

    private static ProducerRecord<byte[], byte[]> rawRecord(String topic, String position) {
        ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(topic, "k".getBytes(StandardCharsets.UTF_8),
                "aborted".getBytes(StandardCharsets.UTF_8));
        r.headers().add(Headers.POSITION, position.getBytes(StandardCharsets.UTF_8));
        return r;
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
