package io.pgtrickle.cli;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.embedded.EmbeddedPostgresServer;
import io.pgtrickle.embedded.OrphanedPostmaster;
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
    /** A fast shutdown rolls back and checkpoints; with fsync on that takes seconds, not minutes. */
    private static final Duration ORPHAN_STOP_TIMEOUT = Duration.ofSeconds(60);

    private final EmbeddedPostgresServer owned;
    private final String jdbcUrl;

    private LocalServer(EmbeddedPostgresServer owned, String jdbcUrl) {
        this.owned = owned;
        this.jdbcUrl = jdbcUrl;
    }

    /** The server of a running {@code pgtrickle run} for {@code dataDir}, or else one started now. */
    static LocalServer attachOrStart(Path dataDir, int port, PrintWriter progress) {
        Path dir = dataDir.toAbsolutePath().normalize();
        Optional<RunFile.Entry> running = RunFile.in(dir).live(note(progress));
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
        Optional<RunFile.Entry> running = RunFile.in(dir).live(note(progress));
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

    private static java.util.function.Consumer<String> note(PrintWriter progress) {
        return line -> {
            progress.println(line);
            progress.flush();
        };
    }

    private static LocalServer start(Path dataDir, int port, PrintWriter progress) {
        stopOrphan(dataDir, progress);
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

    /**
     * Stops the server a killed pgtrickle process left running on {@code dataDir}, so that this
     * process starts its own. Stopping and restarting rather than adopting it: the orphan's log
     * goes to a pipe nobody reads any more, its settings are those of the dead process rather than
     * of this one, and nothing would hold zonky's lock or stop it when this process ends. A fast
     * shutdown puts no committed data at risk (it checkpoints; only transactions still open are
     * rolled back, as a crash would), and the engine resumes from its replication slot. The same
     * holds for one-shot commands, so whoever finds a dead run's server stops it, consistently.
     */
    private static void stopOrphan(Path dataDir, PrintWriter progress) {
        Optional<OrphanedPostmaster> orphan = OrphanedPostmaster.find(dataDir);
        if (orphan.isEmpty()) {
            return;
        }
        progress.print("stopping the orphaned PostgreSQL 18 (pid " + orphan.get().pid() + ") that a killed pgtrickle"
                + " process left running on " + dataDir + " (fast shutdown) ...");
        progress.flush();
        try {
            Duration took = orphan.get().stopFast(ORPHAN_STOP_TIMEOUT);
            progress.println(" stopped in " + Formats.seconds(took));
        } catch (IllegalStateException e) {
            progress.println(" failed");
            throw new PgTrickleException(ErrorCode.CONNECTION_FAILED, e.getMessage(), e);
        } finally {
            progress.flush();
        }
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
