package io.pgtrickle.relay.config;

import io.pgtrickle.format.FieldRule;
import io.pgtrickle.format.Template;
import java.time.Duration;

/** Where a pipeline writes: {@code [pipeline.sink]}, chosen by its {@code type}. */
public sealed interface SinkConfig {
    /**
     * A Kafka topic (forward). {@code topic} is a template over {@code {stream_table}} and
     * {@code {op}}; {@code transactionalId} is the producer's, unique per pipeline, default
     * {@code pgtrickle-relay.<relay_group_id>.<pipeline>}.
     */
    record Kafka(KafkaEndpoint endpoint, Template topic, String transactionalId) implements SinkConfig {
    }

    /**
     * A NATS JetStream stream (forward). {@code subject} is a template; {@code stream} is created at
     * start when {@code createStream} and missing, else checked; its duplicate window must be at
     * least {@code duplicateWindow}.
     */
    record Nats(NatsEndpoint endpoint, String stream, Template subject, Duration duplicateWindow, boolean createStream)
            implements SinkConfig {
    }

    /** A Redis stream (forward); {@code streamKey} is a template; {@code maxlen} trims (null: no trim). */
    record Redis(RedisEndpoint endpoint, Template streamKey, Long maxlen) implements SinkConfig {
    }

    /** One JSON line per change on standard output (forward). */
    record Stdout() implements SinkConfig {
    }

    /**
     * An inbox (reverse). {@code eventId} is where each message's event id comes from;
     * {@code eventType} and {@code aggregateId} likewise (null: not set).
     */
    record Inbox(String inbox, FieldRule eventId, FieldRule eventType, FieldRule aggregateId) implements SinkConfig {
    }
}
