package io.pgtrickle.relay.config;

import java.util.Map;

/**
 * A Kafka cluster: {@code bootstrap_servers} and extra client properties ({@code [pipeline.sink.properties]}
 * or {@code [pipeline.source.properties]}, e.g. {@code security.protocol}); property values may be
 * secrets.
 */
public record KafkaEndpoint(String bootstrapServers, Map<String, Secret> properties) {
    public KafkaEndpoint {
        properties = Map.copyOf(properties);
    }
}
