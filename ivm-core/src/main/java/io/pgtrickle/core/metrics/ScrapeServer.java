package io.pgtrickle.core.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * A small HTTP server (the JDK's) for a Prometheus scrape: {@code /metrics} (the text a registry
 * scrapes to), {@code /health} (200 while the process runs) and whatever further routes the host
 * adds (the relay's {@code /ready}). One thread: scrapes are rare and cheap.
 */
public final class ScrapeServer implements AutoCloseable {
    /** Prometheus text exposition format. */
    public static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4";

    /** What a route answers. */
    public record Response(int status, String contentType, String body) {
    }

    private final HttpServer server;

    /**
     * Starts listening on {@code address} ({@code host:port}; port 0 picks a free one).
     *
     * @param setting the option or key that gave the address, for the error message
     * @param metrics the scrape text, e.g. {@code PrometheusMeterRegistry::scrape}
     * @param routes further paths and their answers
     */
    public ScrapeServer(String address, String setting, Supplier<String> metrics, Map<String, Supplier<Response>> routes)
            throws IOException {
        server = HttpServer.create(parse(address, setting), 16);
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pgtrickle-http");
            t.setDaemon(true);
            return t;
        }));
        Map<String, Supplier<Response>> all = new LinkedHashMap<>();
        all.put("/metrics", () -> new Response(200, PROMETHEUS_TEXT, metrics.get()));
        all.put("/health", () -> new Response(200, "text/plain", "ok\n"));
        all.putAll(routes);
        all.forEach((path, route) -> server.createContext(path, ex -> respond(ex, route.get())));
        server.start();
    }

    /** {@code host:port} as a socket address; the error names {@code setting}. */
    public static InetSocketAddress parse(String address, String setting) {
        int colon = address == null ? -1 : address.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException(setting + " must be host:port, got " + address);
        }
        try {
            return new InetSocketAddress(address.substring(0, colon), Integer.parseInt(address.substring(colon + 1)));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(setting + " must be host:port with a port from 0 to 65535, got "
                    + address, e);
        }
    }

    /** The port it listens on (for an address with port 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    private static void respond(HttpExchange ex, Response response) throws IOException {
        byte[] bytes = response.body().getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", response.contentType());
        ex.sendResponseHeaders(response.status(), bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
