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

/**
 * The note {@code pgtrickle run} keeps in its data directory while it serves it: the server's
 * URL, port and the daemon's pid. Other commands for that directory use this server instead of
 * starting their own (PostgreSQL would refuse a second server on the same directory anyway).
 */
final class RunFile {
    static final String NAME = "pgtrickle-run.properties";

    private final Path dataDir;
    private final Path path;

    /** What a running {@code pgtrickle run} wrote. */
    record Entry(String jdbcUrl, int port, long pid) {
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
        Properties p = new Properties();
        p.setProperty("url", jdbcUrl);
        p.setProperty("port", Integer.toString(port));
        p.setProperty("pid", Long.toString(ProcessHandle.current().pid()));
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

    /**
     * The entry of a run that is still serving: the file exists, PostgreSQL's {@code postmaster.pid}
     * is there and the port answers. A stale file (the run was killed) is removed.
     */
    Optional<Entry> live() {
        if (!Files.exists(path)) {
            return Optional.empty();
        }
        Entry entry;
        try (Reader r = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            Properties p = new Properties();
            p.load(r);
            entry = new Entry(p.getProperty("url"), Integer.parseInt(p.getProperty("port", "0")),
                    Long.parseLong(p.getProperty("pid", "0")));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
        if (entry.jdbcUrl() != null && Files.exists(dataDir.resolve("postmaster.pid"))
                && LocalServer.portAnswers(entry.port())) {
            return Optional.of(entry);
        }
        delete();
        return Optional.empty();
    }

    void delete() {
        try {
            Files.deleteIfExists(path);
        } catch (IOException e) {
            // Harmless: a stale file is recognised and replaced next time.
        }
    }
}
