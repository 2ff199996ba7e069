package io.pgtrickle.cli;

import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtrickle.core.metrics.EngineMetrics;
import io.pgtrickle.core.metrics.ScrapeServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Map;
import javax.sql.DataSource;

/** {@code run --metrics-addr}: the engine's and the JVM's metrics on a Prometheus scrape endpoint. */
final class EngineEndpoint implements AutoCloseable {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final EngineMetrics engineMetrics;
    private final JvmGcMetrics gc = new JvmGcMetrics();
    private final ScrapeServer server;

    private EngineEndpoint(String address, DataSource dataSource) throws IOException {
        new JvmMemoryMetrics().bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        gc.bindTo(registry);
        engineMetrics = new EngineMetrics(registry, dataSource);
        try {
            server = new ScrapeServer(address, "--metrics-addr", registry::scrape, Map.of());
        } catch (IOException | RuntimeException e) {
            engineMetrics.close();
            gc.close();
            throw e;
        }
    }

    static EngineEndpoint start(String address, DataSource dataSource) {
        try {
            return new EngineEndpoint(address, dataSource);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve metrics on " + address + ": " + e.getMessage(), e);
        }
    }

    int port() {
        return server.port();
    }

    @Override
    public void close() {
        server.close();
        engineMetrics.close();
        gc.close();
        registry.close();
    }
}
