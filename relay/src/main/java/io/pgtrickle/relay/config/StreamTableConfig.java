package io.pgtrickle.relay.config;

/**
 * One {@code [[stream_table]]} the relay creates or replaces at start, with its outbox enabled.
 * {@code refreshMode} is {@code AUTO}, {@code FULL} or {@code DIFFERENTIAL}.
 */
public record StreamTableConfig(String name, String query, String schedule, String refreshMode, int retentionHours,
                                int inlineThresholdRows) {
}
