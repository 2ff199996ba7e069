package io.pgtrickle.relay.source.kafka;

import io.pgtrickle.relay.config.SourceConfig;
import io.pgtrickle.relay.kafka.KafkaClients;
import io.pgtrickle.relay.source.EventSource;
import io.pgtrickle.relay.source.InboundMessage;
import io.pgtrickle.relay.source.SourceException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.apache.kafka.common.header.Header;

/**
 * Reads a reverse pipeline's Kafka topics with a {@code read_committed} consumer that belongs to no
 * consumer group: the inbox keeps the positions, committed with the messages, so the source assigns
 * itself every partition and seeks right after the committed offset ({@code "<topic>-<partition>"}
 * to the last processed offset), or to the beginning. Partitions added to a topic later are
 * assigned on a later {@link #poll} (the topics' partitions are looked up every 30 s).
 */
public final class KafkaEventSource implements EventSource {
    static final Duration PARTITION_REFRESH = Duration.ofSeconds(30);

    private final SourceConfig.Kafka config;
    private final Duration apiTimeout;
    private final Deque<InboundMessage> buffered = new ArrayDeque<>();
    private final Duration partitionRefresh;
    private KafkaConsumer<byte[], byte[]> consumer;
    private Admin admin;
    private Map<String, String> committed = Map.of();
    private Set<TopicPartition> assigned = Set.of();
    private long nextRefreshNanos;

    public KafkaEventSource(SourceConfig.Kafka config) {
        this(config, PARTITION_REFRESH);
    }

    /** @param partitionRefresh how often to look for new partitions (tests shorten it) */
    KafkaEventSource(SourceConfig.Kafka config, Duration partitionRefresh) {
        this.config = Objects.requireNonNull(config, "config");
        if (config.topics().isEmpty()) {
            throw new IllegalArgumentException("the Kafka source needs at least one topic in topics");
        }
        this.apiTimeout = KafkaClients.apiTimeout(config.endpoint());
        this.partitionRefresh = partitionRefresh;
    }

    @Override
    public String describe() {
        return "kafka " + config.endpoint().bootstrapServers() + " topics " + String.join(", ", config.topics());
    }

    @Override
    public void open(Map<String, String> committed) throws SourceException {
        this.committed = Map.copyOf(committed);
        try {
            consumer = new KafkaConsumer<>(KafkaClients.readCommittedConsumer(config.endpoint()));
            admin = Admin.create(KafkaClients.admin(config.endpoint()));
            refreshAssignment();
        } catch (KafkaException e) {
            close();
            throw failure("subscribing", e);
        } catch (IllegalArgumentException e) {
            close();
            throw new SourceException(describe() + ": " + KafkaClients.messages(e), false, e);
        } catch (SourceException e) {
            close();
            throw e;
        }
    }

    @Override
    public List<InboundMessage> poll(int maxMessages, Duration timeout) throws SourceException {
        if (consumer == null) {
            throw new IllegalStateException("poll before open on " + describe());
        }
        try {
            if (System.nanoTime() - nextRefreshNanos >= 0) {
                refreshAssignment();
            }
            if (buffered.isEmpty()) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(timeout)) {
                    buffered.add(toMessage(r));
                }
            }
        } catch (KafkaException e) {
            throw failure("polling", e);
        }
        // The consumer's position is past every buffered record: hand them out before polling again.
        List<InboundMessage> out = new ArrayList<>(Math.min(maxMessages, buffered.size()));
        while (out.size() < maxMessages && !buffered.isEmpty()) {
            out.add(buffered.poll());
        }
        return out;
    }

    /** Kafka keeps no acknowledgement: the inbox's committed offsets are the position. */
    @Override
    public void acknowledge(List<InboundMessage> committed) {
    }

    @Override
    public void close() {
        if (admin != null) {
            admin.close(Duration.ofSeconds(5));
            admin = null;
        }
        if (consumer != null) {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                // nothing to save: positions live in the inbox
            }
            consumer = null;
        }
    }

    /**
     * Assigns every partition of the topics; positions of partitions already assigned are kept. The
     * partitions come from the admin client: the consumer's partitionsFor answers from its metadata
     * cache, which would hide new partitions for up to metadata.max.age.ms.
     */
    private void refreshAssignment() throws SourceException {
        Set<TopicPartition> all = new LinkedHashSet<>();
        Map<String, KafkaFuture<TopicDescription>> described = admin.describeTopics(config.topics(),
                new DescribeTopicsOptions().timeoutMs((int) Math.min(Integer.MAX_VALUE, apiTimeout.toMillis())))
                .topicNameValues();
        for (String topic : config.topics()) {
            try {
                for (TopicPartitionInfo p : described.get(topic).get().partitions()) {
                    all.add(new TopicPartition(topic, p.partition()));
                }
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException)) {
                    throw failure("looking up the partitions of " + topic, e.getCause());
                }
                // not created yet: read once it exists
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new SourceException(describe() + ": interrupted looking up partitions", true, e);
            }
        }
        nextRefreshNanos = System.nanoTime() + partitionRefresh.toNanos();
        if (all.equals(assigned)) {
            return;
        }
        Set<TopicPartition> added = new LinkedHashSet<>(all);
        added.removeAll(assigned);
        consumer.assign(all);
        List<TopicPartition> fromStart = new ArrayList<>();
        for (TopicPartition tp : added) {
            String last = committed.get(partitionName(tp));
            if (last == null) {
                fromStart.add(tp);
            } else {
                consumer.seek(tp, parseOffset(tp, last) + 1);
            }
        }
        consumer.seekToBeginning(fromStart);
        assigned = all;
    }

    private static long parseOffset(TopicPartition tp, String text) {
        try {
            return Long.parseLong(text.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("the inbox's committed position of " + partitionName(tp) + " is \"" + text
                    + "\", not a Kafka offset", e);
        }
    }

    /** {@code <topic>-<partition>}, the key of the partition's position in the inbox. */
    static String partitionName(TopicPartition tp) {
        return tp.topic() + "-" + tp.partition();
    }

    private static InboundMessage toMessage(ConsumerRecord<byte[], byte[]> r) {
        Map<String, String> headers = new HashMap<>();
        for (Header h : r.headers()) {
            if (h.value() != null) { // a header without a value gives no event id or type
                headers.put(h.key(), new String(h.value(), StandardCharsets.UTF_8)); // the last value wins
            }
        }
        Instant timestamp = r.timestamp() >= 0 ? Instant.ofEpochMilli(r.timestamp()) : null;
        return new InboundMessage(r.topic(), r.topic() + "-" + r.partition(), Long.toString(r.offset()),
                "kafka:" + r.topic() + "/" + r.partition() + "/" + r.offset(), r.key(), r.value(), headers, timestamp);
    }

    private SourceException failure(String what, Throwable e) {
        if (KafkaClients.causeOf(e, org.apache.kafka.common.errors.TimeoutException.class) != null) {
            return new SourceException(describe() + ": " + what + " failed: no answer from "
                    + config.endpoint().bootstrapServers() + " within default.api.timeout.ms=" + apiTimeout.toMillis()
                    + " ms: is the broker running and reachable at that address? (" + KafkaClients.messages(e) + ")", true, e);
        }
        if (KafkaClients.retriable(e)) {
            return new SourceException(describe() + ": " + what + " failed with a transient error, retrying: "
                    + KafkaClients.messages(e), true, e);
        }
        return new SourceException(describe() + ": " + what + " failed: " + KafkaClients.messages(e), false, e);
    }
}
