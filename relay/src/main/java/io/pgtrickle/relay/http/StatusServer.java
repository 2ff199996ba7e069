package io.pgtrickle.relay.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtrickle.relay.pipeline.PipelineState;
import io.pgtrickle.relay.pipeline.PipelineStatus;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;

/**
 * {@code /metrics} (Prometheus text), {@code /health} (200 while the process runs) and
 * {@code /ready} (200 when every pipeline runs or stands by; 503 naming the ones retrying, since
 * when and why).
 */
public final class StatusServer implements AutoCloseable {
    private final HttpServer server;

    public StatusServer(String address, PrometheusMeterRegistry registry, List<PipelineStatus> pipelines)
            throws IOException {
        int colon = address.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("metrics_addr must be host:port, got " + address);
        }
        String host = address.substring(0, colon);
        int port = Integer.parseInt(address.substring(colon + 1));
        server = HttpServer.create(new InetSocketAddress(host, port), 16);
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pgtrickle-relay-http");
            t.setDaemon(true);
            return t;
        }));
        server.createContext("/metrics", ex -> respond(ex, 200, "text/plain; version=0.0.4", registry.scrape()));
        server.createContext("/health", ex -> respond(ex, 200, "text/plain", "ok\n"));
        server.createContext("/ready", ex -> {
            // One snapshot per pipeline, so the status code and the lines below it agree.
            List<PipelineStatus.Snapshot> now = pipelines.stream().map(PipelineStatus::snapshot).toList();
            String report = now.stream().map(StatusServer::describe).collect(Collectors.joining());
            boolean ready = now.stream().map(PipelineStatus.Snapshot::state)
                    .allMatch(s -> s == PipelineState.RUNNING || s == PipelineState.STANDBY);
            respond(ex, ready ? 200 : 503, "text/plain", (ready ? "ready\n" : "not ready\n") + report);
        });
        server.start();
    }

    /** The port it listens on (for {@code metrics_addr} with port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    private static String describe(PipelineStatus.Snapshot s) {
        return "pipeline " + s.pipeline() + ": " + s.state().name().toLowerCase() + " since " + s.since()
                + (s.lastError() == null ? "" : ": " + s.lastError()) + "\n";
    }

    private static void respond(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
