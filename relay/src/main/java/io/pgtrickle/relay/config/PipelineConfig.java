package io.pgtrickle.relay.config;

import io.pgtrickle.format.FormatName;
import java.time.Duration;
import java.util.Objects;

/**
 * One {@code [[pipeline]]}: a forward pipeline has a {@link SourceConfig.StreamTable} source and a
 * Kafka, NATS, Redis or stdout sink; a reverse one has a Kafka, NATS or Redis source and an
 * {@link SinkConfig.Inbox} sink.
 *
 * @param name unique in the file; names the pipeline in logs, metrics and its ownership lock
 * @param format forward only: how changes are encoded
 * @param batchSize changes (forward) or messages (reverse) per batch
 * @param retryInitialBackoff the first wait after a failure; it doubles up to {@code retryMaxBackoff}
 */
public record PipelineConfig(String name, Direction direction, boolean enabled, SourceConfig source, SinkConfig sink,
                             FormatName format, int batchSize, Duration retryInitialBackoff,
                             Duration retryMaxBackoff) {
    public PipelineConfig {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(direction, "direction");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(sink, "sink");
    }
}
