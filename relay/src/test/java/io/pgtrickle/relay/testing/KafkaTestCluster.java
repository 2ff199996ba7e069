package io.pgtrickle.relay.testing;

import io.pgtrickle.kafka.InProcessKafka;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * A single-node Kafka cluster (one combined broker and controller) in the test's JVM, for targets,
 * sources, crash tests and the Kafka Connect connectors. Start one per test class.
 */
public final class KafkaTestCluster implements AutoCloseable {
    private final InProcessKafka kafka;
    private boolean closed;

    private KafkaTestCluster(InProcessKafka kafka) {
        this.kafka = kafka;
    }

    /** Formats, starts and waits for the broker (~2 s). */
    public static KafkaTestCluster start() throws Exception {
        return new KafkaTestCluster(InProcessKafka.start());
    }

    public String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    /** An admin client of this cluster; the caller closes it. */
    public Admin admin() {
        return Admin.create(Map.of("bootstrap.servers", bootstrapServers()));
    }

    /** Creates a topic with {@code partitions} partitions and waits for it. */
    public void createTopic(String topic, int partitions) throws Exception {
        try (Admin admin = admin()) {
            admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
        }
    }

    /** Producer properties (byte arrays) for writing test records directly. */
    public Properties producerProperties() {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        return p;
    }

    /**
     * Every committed record of {@code topic}, partition by partition in offset order, as an
     * independent {@code read_committed} consumer sees it (aborted records and markers hidden).
     */
    public List<Record> readCommitted(String topic) {
        Map<String, Object> props = new HashMap<>();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(props)) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                    .map(p -> new TopicPartition(topic, p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            // Under read_committed the end offsets are the last stable offsets.
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            List<Record> out = new ArrayList<>();
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("reading " + topic + " to " + end + " took over 30 s");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    out.add(Record.of(r));
                }
            }
            List<Record> sorted = new ArrayList<>(out);
            sorted.sort((a, b) -> a.partition != b.partition ? Integer.compare(a.partition, b.partition)
                    : Long.compare(a.offset, b.offset));
            return sorted;
        }
    }

    /** Stops the broker and deletes its data; a second call does nothing (the test kit's would throw). */
    @Override
    public synchronized void close() throws Exception {
        if (!closed) {
            closed = true;
            kafka.close();
        }
    }

    /** One consumed record; key and value as UTF-8 text (null stays null), headers in order (last value wins). */
    public record Record(String topic, int partition, long offset, String key, String value,
                         Map<String, String> headers) {
        static Record of(ConsumerRecord<byte[], byte[]> r) {
            Map<String, String> headers = new LinkedHashMap<>();
            for (Header h : r.headers()) {
                headers.put(h.key(), h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8));
            }
            return new Record(r.topic(), r.partition(), r.offset(), text(r.key()), text(r.value()), headers);
        }

        private static String text(byte[] bytes) {
            return bytes == null ? null : new String(bytes, StandardCharsets.UTF_8);
        }
    }
}
