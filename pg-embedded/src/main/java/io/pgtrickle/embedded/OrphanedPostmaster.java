package io.pgtrickle.embedded;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * An embedded PostgreSQL whose JVM died without stopping it. A {@code kill -9} of the process
 * that started it runs no shutdown hook, so the postmaster keeps serving the data directory, with
 * its log going to a pipe nobody reads, and no process left that would ever stop it.
 *
 * <p>It is recognised by three facts: {@code postmaster.pid} in the data directory names a live
 * process; that process is a {@code postgres} from the embedded binaries whose data directory
 * (line 2 of the file, written by the postmaster itself) is this one; and nobody holds zonky's {@code epg-lock} on the directory,
 * which every JVM that starts an embedded server holds until it stops it (the kernel releases it
 * when that JVM dies). The last test keeps a server that a live command still uses from being
 * taken for an orphan.
 */
public final class OrphanedPostmaster {
    /** Zonky's per-data-directory lock file, held by the JVM that started the server. */
    static final String STARTER_LOCK = "epg-lock";
    static final String PID_FILE = "postmaster.pid";
    /** Where zonky unpacks the PostgreSQL binaries ({@code <tmpdir>/embedded-pg/PG-<hash>/bin}). */
    private static final String EMBEDDED_BINARIES_DIR = "embedded-pg";

    private final ProcessHandle postmaster;
    private final Path dataDirectory;

    private OrphanedPostmaster(ProcessHandle postmaster, Path dataDirectory) {
        this.postmaster = postmaster;
        this.dataDirectory = dataDirectory;
    }

    /** The orphaned postmaster serving {@code dataDirectory}, if there is one. */
    public static Optional<OrphanedPostmaster> find(Path dataDirectory) {
        Path dir = dataDirectory.toAbsolutePath().normalize();
        Optional<ProcessHandle> postmaster = livePostmaster(dir);
        if (postmaster.isEmpty() || startedByThisProcess(postmaster.get()) || starterAlive(dir)) {
            return Optional.empty();
        }
        return Optional.of(new OrphanedPostmaster(postmaster.get(), dir));
    }

    /** The live postmaster that {@code postmaster.pid} names, when it serves {@code dir}. */
    static Optional<ProcessHandle> livePostmaster(Path dir) {
        List<String> lines;
        try {
            lines = Files.readAllLines(dir.resolve(PID_FILE), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + dir.resolve(PID_FILE) + ": " + e.getMessage(), e);
        }
        if (lines.size() < 2) {
            return Optional.empty(); // being written by a starting postmaster, or truncated: not a serving one
        }
        long pid;
        try {
            pid = Long.parseLong(lines.get(0).trim());
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        if (!sameDirectory(Path.of(lines.get(1).trim()), dir)) {
            return Optional.empty();
        }
        // A stale file whose pid is gone (PostgreSQL died too) is PostgreSQL's own business: it
        // removes such a file when it starts. A reused pid of another program is not a postmaster.
        return ProcessHandle.of(pid).filter(ProcessHandle::isAlive).filter(OrphanedPostmaster::isEmbeddedPostgres);
    }

    /**
     * Only a postgres run from zonky's unpacked binaries counts: a server someone started by hand
     * on the directory (pg_ctl, to have a look) is theirs to stop, and PostgreSQL's own "lock file
     * already exists" error then says what is in the way. When the command cannot be seen (another
     * user's process) it is not ours to stop either.
     */
    private static boolean isEmbeddedPostgres(ProcessHandle process) {
        return process.info().command().map(Path::of).filter(command -> command.getFileName().toString().equals("postgres"))
                .filter(OrphanedPostmaster::underEmbeddedBinaries).isPresent();
    }

    private static boolean underEmbeddedBinaries(Path command) {
        String workingDir = System.getProperty("ot.epg.working-dir");
        if (workingDir != null && command.startsWith(Path.of(workingDir))) {
            return true;
        }
        for (Path dir = command.getParent(); dir != null; dir = dir.getParent()) {
            if (dir.getFileName() != null && dir.getFileName().toString().equals(EMBEDDED_BINARIES_DIR)) {
                return true;
            }
        }
        return false;
    }

    private static boolean sameDirectory(Path a, Path b) {
        try {
            return Files.isSameFile(a, b);
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Checked before touching the lock file: closing any channel of a file drops every lock this
     * process holds on it, so opening zonky's lock file in the JVM that holds it would release it.
     */
    private static boolean startedByThisProcess(ProcessHandle postmaster) {
        return postmaster.parent().map(p -> p.pid() == ProcessHandle.current().pid()).orElse(false);
    }

    /** Whether some live process holds the lock that the JVM which started the server takes. */
    private static boolean starterAlive(Path dir) {
        Path lock = dir.resolve(STARTER_LOCK);
        if (!Files.exists(lock)) {
            return false; // not started by zonky: no starter to wait for
        }
        try (FileChannel channel = FileChannel.open(lock, StandardOpenOption.WRITE)) {
            FileLock probe = channel.tryLock();
            if (probe == null) {
                return true;
            }
            probe.release();
            return false;
        } catch (OverlappingFileLockException e) {
            return true; // this JVM holds it
        } catch (IOException e) {
            return true; // cannot tell: leave the server alone
        }
    }

    public long pid() {
        return postmaster.pid();
    }

    public Path dataDirectory() {
        return dataDirectory;
    }

    /**
     * Stops the server with a fast shutdown (SIGINT): open transactions are rolled back, which is
     * what a crash would have done to them anyway, and everything committed is checkpointed, so
     * nothing committed is at risk. (A smart shutdown, SIGTERM, would wait for clients that may
     * never disconnect.) Returns once {@code postmaster.pid} is gone.
     *
     * @throws IllegalStateException naming the pid when the server is still there after {@code timeout}
     */
    public Duration stopFast(Duration timeout) {
        long started = System.nanoTime();
        signalInterrupt();
        long deadline = started + timeout.toNanos();
        Path pidFile = dataDirectory.resolve(PID_FILE);
        // The postmaster removes its pid file as the very last step of a shutdown, after the
        // checkpoint; its liveness is no signal (an orphan may linger as a zombie if nobody reaps it).
        while (Files.exists(pidFile)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the orphaned PostgreSQL server (pid " + pid() + ") on " + dataDirectory
                        + " did not stop within " + timeout.toSeconds() + " s of a fast shutdown request; stop it"
                        + " with 'kill -INT " + pid() + "' (or 'kill -9 " + pid() + "' as a last resort) and try again");
            }
            sleep(Duration.ofMillis(50));
        }
        return Duration.ofNanos(System.nanoTime() - started);
    }

    /** Java can send only SIGTERM and SIGKILL itself; PostgreSQL's fast shutdown is SIGINT. */
    private void signalInterrupt() {
        try {
            Process kill = new ProcessBuilder("kill", "-INT", Long.toString(pid())).redirectErrorStream(true).start();
            String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (kill.waitFor() != 0 && postmaster.isAlive()) {
                throw new IllegalStateException("cannot send SIGINT to the orphaned PostgreSQL server (pid " + pid()
                        + ") on " + dataDirectory + ": " + output + "; stop it yourself and try again");
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot run 'kill -INT " + pid() + "' to stop the orphaned PostgreSQL server"
                    + " on " + dataDirectory + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while stopping the orphaned PostgreSQL server (pid " + pid() + ")");
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for PostgreSQL to stop");
        }
    }

    @Override
    public String toString() {
        return "PostgreSQL server pid " + pid() + " on " + dataDirectory;
    }
}
