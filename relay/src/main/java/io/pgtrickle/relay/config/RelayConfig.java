package io.pgtrickle.relay.config;

import java.util.List;

/**
 * A relay.toml, read and validated.
 *
 * @param postgresUrl a JDBC or {@code postgresql://} URL; null only with {@code [engine] embedded}
 * @param postgresPassword from the URL or {@code postgres_password}; null when none
 * @param metricsAddr {@code host:port} of {@code /metrics}, {@code /health} and {@code /ready}
 * @param logLevel {@code error}, {@code warn}, {@code info}, {@code debug} or {@code trace}
 * @param logFormat {@code text} or {@code json}
 * @param relayGroupId relays with the same id share pipelines: one owns each, the others stand by
 */
public record RelayConfig(String postgresUrl, Secret postgresPassword, String metricsAddr, String logLevel,
                          String logFormat, String relayGroupId, EngineSettings engine,
                          List<StreamTableConfig> streamTables, List<PipelineConfig> pipelines) {
    public RelayConfig {
        streamTables = List.copyOf(streamTables);
        pipelines = List.copyOf(pipelines);
    }
}
