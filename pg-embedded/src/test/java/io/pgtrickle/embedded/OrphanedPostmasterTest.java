package io.pgtrickle.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OrphanedPostmasterTest {
    @TempDir
    Path dataDir;

    @Test
    void withoutPostmasterPidThereIsNoOrphan() {
        assertThat(OrphanedPostmaster.find(dataDir)).isEmpty();
    }

    @Test
    void aPidFileOfADeadProcessIsLeftToPostgresItself() throws Exception {
        Process gone = new ProcessBuilder("true").start();
        gone.waitFor();
        writePidFile(gone.pid(), dataDir);

        assertThat(OrphanedPostmaster.find(dataDir)).isEmpty();
    }

    @Test
    void aLiveProcessThatIsNotPostgresIsNoPostmaster() throws IOException {
        writePidFile(ProcessHandle.current().pid(), dataDir);

        assertThat(OrphanedPostmaster.livePostmaster(dataDir)).isEmpty();
    }

    @Test
    void aPidFileNamingAnotherDataDirectoryIsNotOurs(@TempDir Path elsewhere) throws IOException {
        writePidFile(ProcessHandle.current().pid(), elsewhere);
        Files.move(elsewhere.resolve("postmaster.pid"), dataDir.resolve("postmaster.pid"));

        assertThat(OrphanedPostmaster.livePostmaster(dataDir)).isEmpty();
    }

    @Test
    void aPostgresNotRunFromTheEmbeddedBinariesIsLeftAlone(@TempDir Path install) throws Exception {
        Process byHand = fakePostgres(install.resolve("usr/lib/postgresql/18/bin"));
        try {
            writePidFile(byHand.pid(), dataDir);

            assertThat(OrphanedPostmaster.livePostmaster(dataDir)).isEmpty();
        } finally {
            byHand.destroyForcibly().waitFor();
        }
    }

    @Test
    void anOrphanThatDoesNotStopInTimeIsAnErrorNamingItsPid(@TempDir Path tmp) throws Exception {
        // Dies on SIGINT but, unlike PostgreSQL, leaves its pid file behind: the stop never completes.
        ProcessHandle orphan = orphaned(fakePostgresCommand(tmp.resolve("embedded-pg/PG-test/bin")));
        try {
            writePidFile(orphan.pid(), dataDir);
            OrphanedPostmaster found = OrphanedPostmaster.find(dataDir).orElseThrow();
            assertThat(found.pid()).isEqualTo(orphan.pid());

            assertThatThrownBy(() -> found.stopFast(Duration.ofMillis(500)))
                    .hasMessageContaining("orphaned PostgreSQL server (pid " + orphan.pid() + ")")
                    .hasMessageContaining("kill -INT " + orphan.pid());
        } finally {
            orphan.destroyForcibly();
        }
    }

    /** Starts {@code command} through a shell that exits at once, so its parent is no longer this JVM. */
    private static ProcessHandle orphaned(Path command) throws Exception {
        Process shell = new ProcessBuilder("sh", "-c", "'" + command + "' 60 >/dev/null 2>&1 & echo $!").start();
        long pid = Long.parseLong(new String(shell.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).trim());
        shell.waitFor();
        ProcessHandle orphan = ProcessHandle.of(pid).orElseThrow();
        // The background child may still be the shell for a moment, before it execs the command.
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (!orphan.info().command().map(c -> c.equals(command.toString())).orElse(false)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("pid " + pid + " did not become " + command);
            }
            Thread.sleep(10);
        }
        return orphan;
    }

    /** A long sleep whose executable is called postgres, in {@code bin}. */
    private static Process fakePostgres(Path bin) throws IOException {
        return new ProcessBuilder(fakePostgresCommand(bin).toString(), "60").start();
    }

    private static Path fakePostgresCommand(Path bin) throws IOException {
        Files.createDirectories(bin);
        Path postgres = Files.copy(Path.of("/bin/sleep"), bin.resolve("postgres"));
        postgres.toFile().setExecutable(true);
        return postgres;
    }

    /** The first two lines of PostgreSQL's postmaster.pid: the pid and the data directory. */
    private static void writePidFile(long pid, Path dir) throws IOException {
        Files.writeString(dir.resolve("postmaster.pid"), pid + "\n" + dir.toAbsolutePath() + "\n1700000000\n5432\n");
    }
}
