package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pgtrickle run} on the embedded server, and the one-shot commands that find it through
 * its run file: the daemon's whole life, from start to a clean stop.
 */
class RunIT {
    @TempDir
    Path dataDir;

    @Test
    void runServesTheDataDirectoryUntilStopped() throws Exception {
        int port = freePort();
        String[] location = {"--data-dir", dataDir.toString(), "--port", Integer.toString(port)};
        Cli daemon = new Cli();
        RunCommand run = daemon.subcommand("run");
        CompletableFuture<Cli.Result> running = CompletableFuture.supplyAsync(() -> daemon.execute(
                concat(new String[] {"run"}, location)));
        try {
            assertThat(run.awaitRunning(Duration.ofSeconds(60))).as(daemon.out() + daemon.err()).isTrue();
            String url = "jdbc:postgresql://localhost:" + port + "/postgres?user=postgres";
            assertThat(daemon.out()).contains("PostgreSQL 18 ready: " + url,
                    "psql \"postgresql://postgres@localhost:" + port + "/postgres\"", "pg_trickle engine running");
            assertThat(dataDir.resolve(RunFile.NAME)).exists();

            execute(url, "CREATE TABLE readings (id int PRIMARY KEY, v int)", "INSERT INTO readings VALUES (1, 10)");

            // A one-shot command uses the daemon's server instead of starting a second one ...
            Cli.Result create = Cli.run(concat(new String[] {"create", "sums", "--query",
                "SELECT count(*) AS n, sum(v) AS total FROM readings", "--schedule", "1s"}, location));
            assertThat(create.exitCode()).as(create.toString()).isZero();
            assertThat(create.err()).contains("using the PostgreSQL 18 of 'pgtrickle run'").doesNotContain("note:");

            // ... and the daemon's scheduler keeps the stream table current.
            execute(url, "INSERT INTO readings VALUES (2, 32)");
            await().atMost(15, TimeUnit.SECONDS).until(() -> "2|42".equals(value(url, "SELECT n || '|' || total FROM sums")));

            // The SQL functions are served by the daemon too.
            String request = value(url, "SELECT pgtrickle.create_stream_table('big', "
                    + "'SELECT id FROM readings WHERE v > 20', 'calculated')");
            execute(url, "SELECT pgtrickle.await_request(" + request + ")");
            assertThat(value(url, "SELECT string_agg(id::text, ',') FROM big")).isEqualTo("2");

            Cli.Result status = Cli.run(concat(new String[] {"status"}, location));
            assertThat(status.out()).contains("public.big", "public.sums");

            // Only one daemon per data directory.
            Cli.Result second = Cli.run(concat(new String[] {"run"}, location));
            assertThat(second.exitCode()).isEqualTo(5);
            assertThat(second.err()).contains("already serves " + dataDir.toAbsolutePath().normalize());
        } finally {
            run.stop();
            // Wait for the clean stop even when the test failed, before the data directory goes.
            running.get(60, TimeUnit.SECONDS);
        }
        Cli.Result stopped = running.get();
        assertThat(stopped.exitCode()).as(stopped.toString()).isZero();
        assertThat(stopped.out()).contains("stopping ...", "engine stopped", "PostgreSQL stopped");
        assertThat(dataDir.resolve(RunFile.NAME)).doesNotExist();
        assertThat(LocalServer.portAnswers(port)).isFalse();

        // Without a daemon, a command starts the server for itself; the data stayed.
        Cli.Result alone = Cli.run("status", "--data-dir", dataDir.toString(), "--port", Integer.toString(port));
        assertThat(alone.exitCode()).as(alone.toString()).isZero();
        assertThat(alone.err()).contains("starting PostgreSQL 18 (data directory " + dataDir.toAbsolutePath().normalize() + ") ...",
                "ready on port " + port);
        assertThat(alone.out()).contains("public.big", "public.sums");
        assertThat(LocalServer.portAnswers(port)).isFalse();
    }

    @Test
    void aFreshDataDirectoryIsCreatedAndRemindsThatNoEngineRuns() throws Exception {
        Path fresh = dataDir.resolve("pgdata");
        int port = freePort();

        Cli.Result r = Cli.run("create", "one", "--query", "SELECT 1 AS x", "--data-dir", fresh.toString(),
                "--port", Integer.toString(port));

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.err()).contains("creating a PostgreSQL 18 data directory in " + fresh)
                .contains("note: no engine is running");
        assertThat(r.out()).contains("created stream table public.one (1 row)");
        assertThat(Files.exists(fresh.resolve("PG_VERSION"))).isTrue();
        assertThat(LocalServer.portAnswers(port)).isFalse();
    }

    @Test
    void aPortUsedBySomethingElseIsNotMistakenForOurServer() throws Exception {
        try (ServerSocket squatter = new ServerSocket(0)) {
            Cli.Result r = Cli.run("status", "--data-dir", dataDir.toString(), "--port",
                    Integer.toString(squatter.getLocalPort()));

            assertThat(r.exitCode()).isEqualTo(5);
            assertThat(r.err()).contains("port " + squatter.getLocalPort() + " is in use");
        }
    }

    private static void execute(String url, String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    private static String value(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
