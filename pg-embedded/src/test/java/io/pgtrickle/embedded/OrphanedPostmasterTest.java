package io.pgtrickle.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
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

    /** The first two lines of PostgreSQL's postmaster.pid: the pid and the data directory. */
    private static void writePidFile(long pid, Path dir) throws IOException {
        Files.writeString(dir.resolve("postmaster.pid"), pid + "\n" + dir.toAbsolutePath() + "\n1700000000\n5432\n");
    }
}
