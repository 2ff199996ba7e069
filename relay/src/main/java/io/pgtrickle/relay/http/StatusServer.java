package io.pgtrickle.relay.http;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtrickle.core.metrics.ScrapeServer;
import io.pgtrickle.relay.pipeline.PipelineState;
import io.pgtrickle.relay.pipeline.PipelineStatus;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * {@code /metrics} (Prometheus text), {@code /health} (200 while the process runs) and
 * {@code /ready} (200 when every pipeline runs or stands by; 503 naming the ones retrying, since
 * when and why), on the engine's shared {@link ScrapeServer}.
 */
public final class StatusServer implements AutoCloseable {
    private final ScrapeServer server;

    public StatusServer(String address, PrometheusMeterRegistry registry, List<PipelineStatus> pipelines)
            throws IOException {
        Supplier<ScrapeServer.Response> ready = () -> {
            // One snapshot per pipeline, so the status code and the lines below it agree.
            List<PipelineStatus.Snapshot> now = pipelines.stream().map(PipelineStatus::snapshot).toList();
            String report = now.stream().map(StatusServer::describe).collect(Collectors.joining());
            boolean isReady = now.stream().map(PipelineStatus.Snapshot::state)
                    .allMatch(s -> s == PipelineState.RUNNING || s == PipelineState.STANDBY);
            return new ScrapeServer.Response(isReady ? 200 : 503, "text/plain",
                    (isReady ? "ready\n" : "not ready\n") + report);
        };
        server = new ScrapeServer(address, "metrics_addr", registry::scrape, Map.of("/ready", ready));
    }

    /** The port it listens on (for {@code metrics_addr} with port 0). */
    public int port() {
        return server.port();
    }

    private static String describe(PipelineStatus.Snapshot s) {
        return "pipeline " + s.pipeline() + ": " + s.state().name().toLowerCase() + " since " + s.since()
                + (s.lastError() == null ? "" : ": " + s.lastError()) + "\n";
    }

    @Override
    public void close() {
        server.close();
    }
}
