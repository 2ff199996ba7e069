package io.pgtrickle.relay.testing;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/** A child relay's {@code /ready}, polled until it says what a test waits for; and free ports for it. */
public final class ReadyEndpoint {
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private ReadyEndpoint() {
    }

    /** A port nothing listens on now (for {@code metrics_addr}). */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    /**
     * Polls {@code /ready} on {@code port} for up to 60 s until {@code until} holds; returns the body.
     *
     * @throws AssertionError naming {@code what}, the last answer and the relay's output
     */
    public static String await(int port, Predicate<HttpResponse<String>> until, String what, RelayProcess relay)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        String body = "";
        while (System.nanoTime() < deadline) {
            try {
                HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/ready"))
                        .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
                body = r.body();
                if (until.test(r)) {
                    return body;
                }
            } catch (IOException e) {
                // not listening yet
            }
            Thread.sleep(50);
        }
        throw new AssertionError("/ready never " + what + "; last answer: " + body + "\n" + relay.output());
    }
}
