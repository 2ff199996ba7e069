package io.pgtrickle.relay.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A server process of its own for a fault test: started on a free port with a private data
 * directory, stopped (SIGTERM or SIGKILL) and started again on the same port and directory, so a
 * client sees the "same" server go away and come back.
 */
public abstract class PrivateServer implements AutoCloseable {
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(15);

    private final int port;
    private final Path dataDir;
    private Process process;

    protected PrivateServer(String name) {
        this.port = freePort();
        try {
            this.dataDir = Files.createTempDirectory("pgt-" + name + "-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The command line that runs the server in the foreground on {@code port} with {@code dataDir}. */
    protected abstract List<String> command(int port, Path dataDir);

    /** What clients connect to, e.g. {@code nats://127.0.0.1:4321}. */
    public abstract String url();

    public int port() {
        return port;
    }

    public Path dataDir() {
        return dataDir;
    }

    /** Starts the server (again) and returns once it accepts connections. */
    public synchronized PrivateServer start() {
        if (process != null && process.isAlive()) {
            throw new IllegalStateException(getClass().getSimpleName() + " on port " + port + " is already running");
        }
        try {
            process = new ProcessBuilder(command(port, dataDir))
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(dataDir.resolve("server.log").toFile()))
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + command(port, dataDir), e);
        }
        awaitAccepting();
        return this;
    }

    /** Stops the server: SIGTERM (an orderly shutdown) or, with {@code kill}, SIGKILL. */
    public synchronized void stop(boolean kill) {
        if (process == null) {
            return;
        }
        if (kill) {
            process.destroyForcibly();
        } else {
            process.destroy();
        }
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        process = null;
    }

    public synchronized boolean running() {
        return process != null && process.isAlive();
    }

    @Override
    public void close() {
        stop(true);
        try (Stream<Path> files = Files.walk(dataDir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a leftover temp directory is harmless
        }
    }

    private void awaitAccepting() {
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException(getClass().getSimpleName() + " exited with " + process.exitValue()
                        + " at start; its output: " + log());
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                sleep(50);
            }
        }
        throw new IllegalStateException(getClass().getSimpleName() + " did not accept connections on port " + port
                + " within " + READY_TIMEOUT + "; its output: " + log());
    }

    private String log() {
        try {
            return Files.readString(dataDir.resolve("server.log"));
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
