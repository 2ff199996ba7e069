package io.pgtrickle.relay.source;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * Where a reverse pipeline consumes from: a Kafka topic, a NATS JetStream durable consumer or a Redis
 * consumer group. The pipeline writes each polled batch into the inbox and, in the same PostgreSQL
 * transaction, the batch's positions ({@link InboundMessage#partition()} to
 * {@link InboundMessage#position()}); after that commit it calls {@link #acknowledge}. A crash
 * before the commit redelivers the batch; the inbox skips event ids it holds, so nothing doubles.
 */
public interface EventSource extends AutoCloseable {
    /** e.g. {@code nats nats://127.0.0.1:4222 stream ORDERS durable pgtrickle}. */
    String describe();

    /**
     * Connects and subscribes. {@code committed} holds the positions the inbox committed last, per
     * partition: a source that keeps no positions of its own (Kafka) resumes right after them;
     * sources that keep their own acknowledgements (NATS, Redis) may ignore them.
     */
    void open(Map<String, String> committed) throws SourceException;

    /** Up to {@code maxMessages} messages, waiting at most {@code timeout} for the first. */
    List<InboundMessage> poll(int maxMessages, Duration timeout) throws SourceException;

    /** Called after the batch is committed to the inbox: NATS acks, Redis XACKs; Kafka does nothing. */
    void acknowledge(List<InboundMessage> committed) throws SourceException;

    @Override
    void close();
}
