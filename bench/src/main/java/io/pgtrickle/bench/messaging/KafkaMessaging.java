package io.pgtrickle.bench.messaging;

import io.pgtrickle.relay.target.OutboundMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Kafka: the relay's transactional producer; the direct client is an idempotent producer with
 * {@code acks=all} and no transactions; the reader a {@code read_committed} consumer, so it sees
 * only what the relay committed.
 */
public final class KafkaMessaging implements Messaging {
    private final String bootstrapServers;

    public KafkaMessaging(String bootstrapServers) {
        this.bootstrapServers = bootstrapServers;
    }

    @Override
    public String name() {
        return "kafka";
    }

    @Override
    public String server() {
        return bootstrapServers;
    }

    @Override
    public void prepare(String topic) throws Exception {
        remove(topic);
        try (Admin admin = admin()) {
            // One partition: every change of the run in one order, as a single key's changes are.
            admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get();
        }
    }

    @Override
    public String sinkToml(String topic) {
        return "type = \"kafka\"\nbootstrap_servers = \"" + bootstrapServers + "\"\ntopic = \"" + topic + "\"\n";
    }

    @Override
    public String messageDestination(String topic) {
        return topic;
    }

    @Override
    public void publishDirect(List<OutboundMessage> messages, int batchSize) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            for (OutboundMessage m : messages) {
                ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(m.destination(), bytes(m.message().key()),
                        bytes(m.message().value()));
                m.message().headers().forEach((k, v) -> r.headers().add(k, bytes(v)));
                producer.send(r);
            }
            producer.flush();
        }
    }

    @Override
    public AutoCloseable read(String topic, Consumer<byte[]> onMessage) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "5000");
        KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p);
        TopicPartition partition = new TopicPartition(topic, 0);
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
        return ReaderThread.start("kafka-reader-" + topic, () -> {
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(50))) {
                onMessage.accept(r.value());
            }
        }, consumer::wakeup, consumer::close);
    }

    @Override
    public void remove(String topic) throws Exception {
        try (Admin admin = admin()) {
            admin.deleteTopics(List.of(topic)).all().get();
            // Deletion is asynchronous in the broker: wait until the topic is gone before re-creating it.
            for (int i = 0; i < 100 && admin.listTopics().names().get().contains(topic); i++) {
                Thread.sleep(50);
            }
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                throw e;
            }
        }
    }

    private Admin admin() {
        return Admin.create(Map.of("bootstrap.servers", bootstrapServers));
    }

    private static byte[] bytes(String s) {
        return s == null ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
    }
}
