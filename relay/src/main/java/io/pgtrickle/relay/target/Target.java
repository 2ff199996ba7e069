package io.pgtrickle.relay.target;

import io.pgtrickle.core.outbox.OutboxPosition;
import java.util.List;
import java.util.Optional;

/**
 * Where a forward pipeline publishes: Kafka, NATS JetStream, Redis Streams or stdout. One instance
 * serves one pipeline and is used by one thread. The pipeline calls {@link #open}, then
 * {@link #lastPublished} once, then {@link #publish} for each batch in position order; after a
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
     * Publishes the batch in order and returns once every message is durable in the target (acked,
     * committed). All or nothing where the target has transactions (Kafka); elsewhere a failure
     * leaves a prefix published, which {@link #lastPublished} or the target's deduplication covers
     * on the retry.
     */
    PublishResult publish(List<OutboundMessage> batch) throws TargetException;

    @Override
    void close();
}
