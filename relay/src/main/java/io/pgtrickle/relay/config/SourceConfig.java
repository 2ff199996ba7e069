package io.pgtrickle.relay.config;

import java.util.List;

/** Where a pipeline reads: {@code [pipeline.source]}. */
public sealed interface SourceConfig {
    /** A stream table's outbox (forward). */
    record StreamTable(String streamTable) implements SourceConfig {
    }

    /** Kafka topics (reverse); positions are kept in PostgreSQL, not in a consumer group. */
    record Kafka(KafkaEndpoint endpoint, List<String> topics) implements SourceConfig {
        public Kafka {
            topics = List.copyOf(topics);
        }
    }

    /** A JetStream durable consumer on {@code stream} filtered by {@code subject} (reverse). */
    record Nats(NatsEndpoint endpoint, String stream, String subject, String durable) implements SourceConfig {
    }

    /** A Redis stream read by consumer {@code consumer} of group {@code group} (reverse). */
    record Redis(RedisEndpoint endpoint, String streamKey, String group, String consumer) implements SourceConfig {
    }
}
