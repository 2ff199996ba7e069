package io.pgtrickle.relay.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A private {@code redis-server} on a free port. With {@code durable} it writes an append-only
 * file (fsync always) in its directory, so a restart keeps every acknowledged write; without, a
 * restart starts empty. With a password it refuses clients that do not AUTH with it.
 */
public final class PrivateRedisServer extends PrivateServer {
    private static final String BINARY = "/usr/bin/redis-server";
    private final boolean durable;
    private final String password;

    public PrivateRedisServer(boolean durable) {
        this(durable, null);
    }

    /** As {@link #PrivateRedisServer(boolean)}; a non-null {@code password} is required of clients ({@code --requirepass}). */
    public PrivateRedisServer(boolean durable, String password) {
        super("redis");
        this.durable = durable;
        this.password = password;
    }

    /** Starts a new server; close it to stop it and remove its files. */
    public static PrivateRedisServer started(boolean durable) {
        return started(durable, null);
    }

    /** Starts a new server that requires {@code password} (none when null); close it to stop it. */
    public static PrivateRedisServer started(boolean durable, String password) {
        PrivateRedisServer s = new PrivateRedisServer(durable, password);
        s.start();
        return s;
    }

    @Override
    protected List<String> command(int port, Path dataDir) {
        List<String> command = new ArrayList<>(List.of(BINARY, "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--dir", dataDir.toString(), "--save", "", "--appendonly", durable ? "yes" : "no",
                "--appendfsync", "always"));
        if (password != null) {
            command.addAll(List.of("--requirepass", password));
        }
        return command;
    }

    @Override
    public String url() {
        return "redis://127.0.0.1:" + port();
    }
}
