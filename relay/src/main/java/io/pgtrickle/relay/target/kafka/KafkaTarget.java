package io.pgtrickle.relay.target.kafka;

import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.kafka.KafkaClients;
import io.pgtrickle.relay.target.OutboundMessage;
import io.pgtrickle.relay.target.PublishResult;
import io.pgtrickle.relay.target.Target;
import io.pgtrickle.relay.target.TargetException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsOptions;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.InvalidProducerEpochException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * Publishes a forward pipeline to Kafka topics with a transactional producer: what is sent between
 * two {@link #flush}es is one transaction, visible to {@code read_committed} consumers entirely or
 * not at all, and {@link #lastPublished} reads the end of the last committed one back
 * from the topics. Opening it fences any older producer with the same {@code transactional.id}
 * and aborts that producer's open transaction.
 */
public final class KafkaTarget implements Target {
    private static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(5);

    private final SinkConfig.Kafka config;
    private final String streamTable;
    private final Duration maxBlock;
    private final Duration apiTimeout;
    private KafkaProducer<byte[], byte[]> producer;
    /** The open transaction: its first and last positions and how many messages it holds; first null when none. */
    private OutboxPosition first;
    private OutboxPosition last;
    private int sent;

    /** @param streamTable what {@code {stream_table}} in the topic template expands to */
    public KafkaTarget(SinkConfig.Kafka config, String streamTable) {
        this.config = Objects.requireNonNull(config, "config");
        this.streamTable = Objects.requireNonNull(streamTable, "streamTable");
        if (config.transactionalId() == null || config.transactionalId().isBlank()) {
            throw new IllegalArgumentException("the Kafka sink of " + describe()
                    + " needs a transactional_id, unique per pipeline");
        }
        this.maxBlock = KafkaClients.maxBlock(config.endpoint());
        this.apiTimeout = KafkaClients.apiTimeout(config.endpoint());
    }

    @Override
    public String describe() {
        return "kafka " + config.endpoint().bootstrapServers() + " topic " + config.topic()
                + " transactional.id " + config.transactionalId();
    }

    /** The topics this target writes to: the template's expansions for the stream table. */
    public List<String> topics() {
        return config.topic().expansions(streamTable);
    }

    @Override
    public void open() throws TargetException {
        createMissingTopics();
        try {
            producer = new KafkaProducer<>(KafkaClients.producer(config.endpoint(), Map.of(
                    ProducerConfig.TRANSACTIONAL_ID_CONFIG, config.transactionalId(),
                    ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                    ProducerConfig.ACKS_CONFIG, "all")));
            producer.initTransactions();
        } catch (KafkaException e) {
            close();
            throw failure("opening the transactional producer", e);
        }
    }

    @Override
    public Optional<OutboxPosition> lastPublished() throws TargetException {
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(
                KafkaClients.readCommittedConsumer(config.endpoint()))) {
            return new LastPositionReader(consumer, apiTimeout).highest(topics());
        } catch (KafkaException e) {
            throw failure("reading the last published position", e);
        }
    }

    /** Sends the batch inside the open transaction, beginning one when none is open. */
    @Override
    public void send(List<OutboundMessage> batch) throws TargetException {
        if (producer == null) {
            throw new IllegalStateException("send before open on " + describe());
        }
        if (batch.isEmpty()) {
            return;
        }
        try {
            if (first == null) {
                producer.beginTransaction();
                first = batch.get(0).position();
            }
            last = batch.get(batch.size() - 1).position();
            sent += batch.size();
            for (OutboundMessage m : batch) {
                producer.send(record(m));
            }
        } catch (KafkaException e) {
            throw abort(e);
        }
    }

    /**
     * Ten: a commit costs a round trip to the transaction coordinator and a marker in every
     * partition, so fewer, larger transactions (5,000 changes at the default batch size) publish
     * more per second (measured in docs/benchmarks.md, "bench relay").
     */
    @Override
    public int batchesPerFlush(int batchSize) {
        return 10;
    }

    /** Commits the open transaction: everything sent since the last flush, whole or not at all. */
    @Override
    public PublishResult flush() throws TargetException {
        if (first == null) {
            return PublishResult.NONE;
        }
        try {
            // Flushes and fails when any send failed.
            producer.commitTransaction();
            return new PublishResult(sent, 0);
        } catch (KafkaException e) {
            throw abort(e);
        } finally {
            first = null;
            sent = 0;
        }
    }

    private TargetException abort(KafkaException e) {
        TargetException failure = failure("publishing " + sent + " messages from " + first + " to " + last, e);
        if (!isFenced(e)) {
            abortQuietly();
        }
        first = null;
        sent = 0;
        return failure;
    }

    @Override
    public void close() {
        if (producer != null) {
            try {
                producer.close(CLOSE_TIMEOUT);
            } catch (RuntimeException e) {
                // closing after a failure: the failure was reported already
            }
            producer = null;
        }
    }

    private static ProducerRecord<byte[], byte[]> record(OutboundMessage m) {
        RecordHeaders headers = new RecordHeaders();
        m.message().headers().forEach((k, v) -> headers.add(k, v == null ? null : v.getBytes(StandardCharsets.UTF_8)));
        return new ProducerRecord<>(m.destination(), null, bytes(m.message().key()), bytes(m.message().value()), headers);
    }

    private static byte[] bytes(String text) {
        return text == null ? null : text.getBytes(StandardCharsets.UTF_8);
    }

    private void createMissingTopics() throws TargetException {
        int timeoutMs = (int) Math.min(Integer.MAX_VALUE, maxBlock.toMillis());
        try (Admin admin = Admin.create(KafkaClients.admin(config.endpoint()))) {
            Set<String> existing = admin.listTopics(new ListTopicsOptions().timeoutMs(timeoutMs)).names().get();
            List<NewTopic> missing = new ArrayList<>();
            for (String topic : topics()) {
                if (!existing.contains(topic)) {
                    missing.add(new NewTopic(topic, Optional.empty(), Optional.empty())); // broker defaults
                }
            }
            if (!missing.isEmpty()) {
                try {
                    admin.createTopics(missing, new CreateTopicsOptions().timeoutMs(timeoutMs)).all().get();
                } catch (ExecutionException e) {
                    if (!(e.getCause() instanceof TopicExistsException)) { // another relay was quicker
                        throw e;
                    }
                }
            }
        } catch (ExecutionException e) {
            throw failure("creating the topics " + topics(), e.getCause());
        } catch (KafkaException e) {
            throw failure("creating the topics " + topics(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TargetException("interrupted while creating the topics of " + describe(), true, e);
        }
    }

    private void abortQuietly() {
        try {
            producer.abortTransaction();
        } catch (RuntimeException e) {
            // the producer is unusable; the pipeline closes it and opens a new target, whose
            // initTransactions() aborts the open transaction
        }
    }

    private static boolean isFenced(Throwable e) {
        return KafkaClients.causeOf(e, ProducerFencedException.class) != null
                || KafkaClients.causeOf(e, InvalidProducerEpochException.class) != null;
    }

    private TargetException failure(String what, Throwable e) {
        if (isFenced(e)) {
            return new TargetException(describe() + ": " + what + " failed: the producer was fenced, another relay "
                    + "took over the pipeline (it opened a producer with the same transactional.id); this relay "
                    + "stops publishing it", false, e);
        }
        if (KafkaClients.causeOf(e, org.apache.kafka.common.errors.TimeoutException.class) != null) {
            return new TargetException(describe() + ": " + what + " failed: no answer from "
                    + config.endpoint().bootstrapServers() + " within max.block.ms=" + maxBlock.toMillis()
                    + " ms (default.api.timeout.ms=" + apiTimeout.toMillis() + " ms): is the broker running and "
                    + "reachable at that address? (" + KafkaClients.messages(e) + ")", true, e);
        }
        if (KafkaClients.retriable(e)) {
            return new TargetException(describe() + ": " + what + " failed with a transient error, retrying: "
                    + KafkaClients.messages(e), true, e);
        }
        return new TargetException(describe() + ": " + what + " failed: " + KafkaClients.messages(e), false, e);
    }
}
