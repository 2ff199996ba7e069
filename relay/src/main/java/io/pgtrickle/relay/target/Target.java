package io.pgtrickle.relay.target;

import io.pgtrickle.core.outbox.OutboxPosition;
import java.util.List;
import java.util.Optional;

/**
 * Where a forward pipeline publishes: Kafka, NATS JetStream, Redis Streams or stdout. One instance
 * serves one pipeline and is used by one thread. The pipeline calls {@link #open}, then
 * {@link #lastPublished} once, then {@link #send} for each batch in position order and
 * {@link #flush} before it records progress; after a
 * {@link TargetException} it closes the target and starts over with a new instance.
 */
public interface Target extends AutoCloseable {
    /** e.g. {@code kafka 127.0.0.1:9092 topic pgtrickle.{stream_table}}, for logs and errors. */
    String describe();

    /**
     * Connects; creates or checks what the target needs (a JetStream stream, ...); fences a
     * previous owner where the target can (Kafka's transactional id).
     */
    void open() throws TargetException;

    /**
     * The highest position this pipeline's messages already hold in the target, read back from the
     * target itself, or empty when it holds none or cannot tell (stdout). Called once after open.
     */
    Optional<OutboxPosition> lastPublished() throws TargetException;

    /**
     * Hands the batch to the target, in order after what was sent before, without waiting until it
     * is durable: {@link #flush} waits. Lets the pipeline read and encode the next batch while the
     * target acknowledges this one, and lets Kafka commit one transaction for several batches.
     */
    void send(List<OutboundMessage> batch) throws TargetException;

    /**
     * Returns once every message sent since the last flush is durable in the target (acked,
     * committed), with their counts. All or nothing where the target has transactions (Kafka:
     * everything since the last flush is one transaction); elsewhere a failure leaves a prefix
     * published, which {@link #lastPublished} or the target's deduplication covers on the retry.
     */
    PublishResult flush() throws TargetException;

    /**
     * How many batches of {@code batchSize} the pipeline sends before it flushes: enough that the
     * wait for durability is paid rarely, few enough that a consumer sees changes soon.
     */
    default int batchesPerFlush(int batchSize) {
        return 4;
    }

    /** Sends the batch and flushes. */
    default PublishResult publish(List<OutboundMessage> batch) throws TargetException {
        send(batch);
        return flush();
    }

    @Override
    void close();
}
