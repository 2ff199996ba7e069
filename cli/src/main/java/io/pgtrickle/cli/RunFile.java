package io.pgtrickle.cli;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Consumer;

/**
 * The note {@code pgtrickle run} keeps in its data directory while it serves it: the server's
 * URL, port and the daemon's pid. Other commands for that directory use this server instead of
 * starting their own (PostgreSQL would refuse a second server on the same directory anyway).
 */
final class RunFile {
    static final String NAME = "pgtrickle-run.properties";

    private final Path dataDir;
    private final Path path;

    /**
     * What a running {@code pgtrickle run} wrote. {@code pidStarted} (epoch ms, 0 if unknown) tells
     * the run's process from a later one that got the same pid.
     */
    record Entry(String jdbcUrl, int port, long pid, long pidStarted) {
    }

    private RunFile(Path dataDir) {
        this.dataDir = dataDir;
        this.path = dataDir.resolve(NAME);
    }

    static RunFile in(Path dataDir) {
        return new RunFile(dataDir);
    }

    Path path() {
        return path;
    }

    /** Records that this process serves the directory at {@code jdbcUrl}; replaced atomically. */
    void write(String jdbcUrl, int port) {
        write(jdbcUrl, port, ProcessHandle.current());
    }

    /** As {@link #write(String, int)}, for {@code process} (tests write other processes' files). */
    void write(String jdbcUrl, int port, ProcessHandle process) {
        Properties p = new Properties();
        p.setProperty("url", jdbcUrl);
        p.setProperty("port", Integer.toString(port));
        p.setProperty("pid", Long.toString(process.pid()));
        startedMillis(process).ifPresent(started -> p.setProperty("pid.started", Long.toString(started)));
        try {
            Path tmp = Files.createTempFile(dataDir, NAME, ".tmp");
            try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.UTF_8)) {
                p.store(w, "written by 'pgtrickle run' while it serves this data directory");
            }
            Files.move(tmp, path, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + path, e);
        }
    }

    /** As {@link #live(Consumer)}, without saying why a stale file was removed. */
    Optional<Entry> live() {
        return live(note -> { });
    }

    /**
     * The entry of a run that is still serving: the file exists, the process that wrote it is
     * alive, PostgreSQL's {@code postmaster.pid} is there and the port answers. A stale file (the
     * run was killed, or its server is gone) is removed, and {@code staleNote} gets one line saying
     * why. A killed run's server may still be running: see {@code OrphanedPostmaster}.
     */
    Optional<Entry> live(Consumer<String> staleNote) {
        if (!Files.exists(path)) {
            return Optional.empty();
        }
        Entry entry;
        try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            Properties p = new Properties();
            p.load(r);
            entry = new Entry(p.getProperty("url"), Integer.parseInt(p.getProperty("port", "0")),
                    Long.parseLong(p.getProperty("pid", "0")), Long.parseLong(p.getProperty("pid.started", "0")));
        } catch (IOException | RuntimeException e) {
            staleNote.accept("ignoring the unreadable " + path + " (" + e.getMessage() + ")");
            delete();
            return Optional.empty();
        }
        Optional<String> staleBecause = staleBecause(entry);
        if (staleBecause.isEmpty()) {
            return Optional.of(entry);
        }
        staleNote.accept("'pgtrickle run' (pid " + entry.pid() + ") no longer serves " + dataDir + ": "
                + staleBecause.get() + "; removed its stale " + NAME);
        delete();
        return Optional.empty();
    }

    /** Why {@code entry} no longer describes a serving run, if it does not. */
    private Optional<String> staleBecause(Entry entry) {
        if (entry.jdbcUrl() == null) {
            return Optional.of("the file names no server URL");
        }
        // A killed run leaves its file behind (SIGKILL runs no shutdown hook), and its server may
        // even keep answering on the port: the process itself is what must be alive.
        Optional<ProcessHandle> process = ProcessHandle.of(entry.pid()).filter(ProcessHandle::isAlive);
        if (process.isEmpty()) {
            return Optional.of("that process is gone");
        }
        if (entry.pidStarted() != 0 && startedMillis(process.get()).map(s -> s != entry.pidStarted()).orElse(false)) {
            return Optional.of("that process is gone (pid " + entry.pid() + " is another process now)");
        }
        if (!Files.exists(dataDir.resolve("postmaster.pid")) || !LocalServer.portAnswers(entry.port())) {
            return Optional.of("its PostgreSQL no longer answers on port " + entry.port());
        }
        return Optional.empty();
    }

    private static Optional<Long> startedMillis(ProcessHandle process) {
        return process.info().startInstant().map(java.time.Instant::toEpochMilli);
    }

    void delete() {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // Harmless: a stale file is recognised and replaced next time.
        }
    }
}
