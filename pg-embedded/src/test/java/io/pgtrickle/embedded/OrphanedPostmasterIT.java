package io.pgtrickle.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A JVM that started an embedded server is killed with SIGKILL; the next one finds and stops the orphan. */
class OrphanedPostmasterIT {
    @TempDir
    Path dataDir;

    @Test
    void theServerOfAKilledJvmIsAnOrphanThatAFastShutdownStopsWithItsDataKept() throws Exception {
        Process child = startServerInChildJvm();
        long orphanPid;
        try {
            int port = awaitReady(child);
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/postgres?user=postgres");
                 Statement s = c.createStatement()) {
                s.execute("CREATE TABLE kept AS SELECT 'committed before the kill' AS v");
            }
            // While the JVM that started it lives, its server is no orphan.
            assertThat(OrphanedPostmaster.find(dataDir)).isEmpty();

            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            Optional<OrphanedPostmaster> orphan = OrphanedPostmaster.find(dataDir);
            assertThat(orphan).as("the postmaster outlives a SIGKILL of its JVM").isPresent();
            orphanPid = orphan.get().pid();
            assertThat(orphanPid).isEqualTo(Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0)));

            orphan.get().stopFast(Duration.ofSeconds(60));

            assertThat(dataDir.resolve("postmaster.pid")).doesNotExist();
            try (EmbeddedPostgresServer again = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.persistent(0, dataDir));
                 Connection c = DriverManager.getConnection(again.jdbcUrl("postgres"));
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT v FROM kept")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("committed before the kill");
            }
        } finally {
            child.destroyForcibly();
            OrphanedPostmaster.find(dataDir).ifPresent(o -> o.stopFast(Duration.ofSeconds(60)));
        }
    }

    @Test
    void whenPostgresDiedTooItsStalePidFileIsNoOrphanAndTheServerStartsAgainWithItsDataKept() throws Exception {
        Process child = startServerInChildJvm();
        try {
            int port = awaitReady(child);
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://localhost:" + port + "/postgres?user=postgres");
                 Statement s = c.createStatement()) {
                s.execute("CREATE TABLE kept AS SELECT 'committed before the kill' AS v");
            }
            long postmaster = Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            ProcessHandle.of(postmaster).ifPresent(ProcessHandle::destroyForcibly);
            awaitGone(postmaster);

            assertThat(dataDir.resolve("postmaster.pid")).as("left behind by the killed postmaster").exists();
            assertThat(OrphanedPostmaster.find(dataDir)).isEmpty();
            // PostgreSQL recognises the stale pid file itself and recovers from its WAL.
            try (EmbeddedPostgresServer again = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.persistent(0, dataDir));
                 Connection c = DriverManager.getConnection(again.jdbcUrl("postgres"));
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT v FROM kept")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("committed before the kill");
            }
        } finally {
            child.destroyForcibly();
            OrphanedPostmaster.find(dataDir).ifPresent(o -> o.stopFast(Duration.ofSeconds(60)));
        }
    }

    private Process startServerInChildJvm() throws java.io.IOException {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        return new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                ServerInChildJvm.class.getName(), dataDir.toString()).redirectErrorStream(true).start();
    }

    private static void awaitGone(long pid) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
    }

    private static int awaitReady(Process child) throws Exception {
        BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        StringBuilder seen = new StringBuilder();
        String line;
        while ((line = out.readLine()) != null) {
            seen.append(line).append('\n');
            if (line.startsWith(ServerInChildJvm.READY)) {
                // Keep draining, so the child never blocks on a full pipe.
                Thread drain = new Thread(() -> {
                    try {
                        out.transferTo(java.io.Writer.nullWriter());
                    } catch (java.io.IOException ignored) {
                        // the child is gone
                    }
                });
                drain.setDaemon(true);
                drain.start();
                return Integer.parseInt(line.substring(ServerInChildJvm.READY.length()).trim());
            }
        }
        throw new AssertionError("the child JVM ended before its server was ready:\n" + seen);
    }
}
