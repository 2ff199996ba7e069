package io.pgtrickle.cli;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.embedded.EmbeddedPostgresServer;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;

/**
 * The embedded PostgreSQL 18 that commands use when no {@code --jdbc-url} is given: the server
 * a running {@code pgtrickle run} serves for the data directory, or one this process starts and
 * stops. Progress is printed while a server starts, since the first start takes a few seconds.
 */
final class LocalServer implements AutoCloseable {
    private static final Duration PORT_PROBE_TIMEOUT = Duration.ofMillis(500);

    private final EmbeddedPostgresServer owned;
    private final String jdbcUrl;

    private LocalServer(EmbeddedPostgresServer owned, String jdbcUrl) {
        this.owned = owned;
        this.jdbcUrl = jdbcUrl;
    }

    /** The server of a running {@code pgtrickle run} for {@code dataDir}, or else one started now. */
    static LocalServer attachOrStart(Path dataDir, int port, PrintWriter progress) {
        Path dir = dataDir.toAbsolutePath().normalize();
        Optional<RunFile.Entry> running = RunFile.in(dir).live();
        if (running.isPresent()) {
            progress.println("using the PostgreSQL 18 of 'pgtrickle run' (pid " + running.get().pid() + ") at "
                    + running.get().jdbcUrl());
            progress.flush();
            return new LocalServer(null, running.get().jdbcUrl());
        }
        return start(dir, port, progress);
    }

    /** Starts the server for {@code pgtrickle run}; fails when another run already serves {@code dataDir}. */
    static LocalServer startForRun(Path dataDir, int port, PrintWriter progress) {
        Path dir = dataDir.toAbsolutePath().normalize();
        Optional<RunFile.Entry> running = RunFile.in(dir).live();
        if (running.isPresent()) {
            throw new PgTrickleException(ErrorCode.ENGINE_ALREADY_RUNNING, "'pgtrickle run' (pid "
                    + running.get().pid() + ") already serves " + dir + " at " + running.get().jdbcUrl());
        }
        return start(dir, port, progress);
    }

    /** A throw-away server on a free port with a temporary data directory (the demo's). */
    static LocalServer startEphemeral(PrintWriter progress) {
        return start(progress, "starting PostgreSQL 18 on a temporary data directory",
                EmbeddedPostgresServer.Options.ephemeral(), "temporary data directory");
    }

    /**
     * A throw-away server on a free port with a temporary data directory, but durable (fsync on)
     * like the server of {@code pgtrickle run}, so commit costs are those of a real server (the
     * capture benchmark's).
     */
    static LocalServer startTemporaryDurable(PrintWriter progress) {
        return start(progress, "starting PostgreSQL 18 on a temporary data directory (fsync on)",
                new EmbeddedPostgresServer.Options(0, null, true, java.util.Map.of()), "temporary data directory");
    }

    private static LocalServer start(Path dataDir, int port, PrintWriter progress) {
        if (portAnswers(port)) {
            throw new PgTrickleException(ErrorCode.CONNECTION_FAILED, "port " + port + " is in use, but not by a"
                    + " 'pgtrickle run' for " + dataDir + ": choose another --port, or connect with --jdbc-url");
        }
        String what = Files.exists(dataDir.resolve("postgresql.conf"))
                ? "starting PostgreSQL 18 (data directory " + dataDir + ")"
                : "creating a PostgreSQL 18 data directory in " + dataDir + " and starting the server";
        return start(progress, what, EmbeddedPostgresServer.Options.persistent(port, dataDir),
                "data directory " + dataDir);
    }

    private static LocalServer start(PrintWriter progress, String what, EmbeddedPostgresServer.Options options,
                                     String where) {
        progress.print(what + " ...");
        progress.flush();
        long started = System.nanoTime();
        EmbeddedPostgresServer server;
        try {
            server = EmbeddedPostgresServer.start(options);
        } catch (RuntimeException e) {
            progress.println(" failed");
            progress.flush();
            throw new PgTrickleException(ErrorCode.CONNECTION_FAILED, "could not start the embedded PostgreSQL 18 ("
                    + where + "): " + e.getMessage(), e);
        }
        progress.println(" ready on port " + server.port() + " in "
                + Formats.seconds(Duration.ofNanos(System.nanoTime() - started)));
        progress.flush();
        return new LocalServer(server, server.jdbcUrl("postgres"));
    }

    /** Whether something accepts connections on {@code port} of this machine. */
    static boolean portAnswers(int port) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port),
                    (int) PORT_PROBE_TIMEOUT.toMillis());
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    String jdbcUrl() {
        return jdbcUrl;
    }

    /** The port of a server this process started. */
    int port() {
        return owned.port();
    }

    /** Whether this process started the server (and so stops it), rather than using the one of a run. */
    boolean owned() {
        return owned != null;
    }

    @Override
    public void close() {
        if (owned != null) {
            owned.close();
        }
    }
}
