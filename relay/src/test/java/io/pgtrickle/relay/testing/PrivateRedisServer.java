package io.pgtrickle.relay.testing;

import java.nio.file.Path;
import java.util.List;

/**
 * A private {@code redis-server} on a free port. With {@code durable} it writes an append-only
 * file (fsync always) in its directory, so a restart keeps every acknowledged write; without, a
 * restart starts empty.
 */
public final class PrivateRedisServer extends PrivateServer {
    private static final String BINARY = "/usr/bin/redis-server";
    private final boolean durable;

    public PrivateRedisServer(boolean durable) {
        super("redis");
        this.durable = durable;
    }

    /** Starts a new server; close it to stop it and remove its files. */
    public static PrivateRedisServer started(boolean durable) {
        PrivateRedisServer s = new PrivateRedisServer(durable);
        s.start();
        return s;
    }

    @Override
    protected List<String> command(int port, Path dataDir) {
        return List.of(BINARY, "--port", Integer.toString(port), "--bind", "127.0.0.1", "--dir", dataDir.toString(),
                "--save", "", "--appendonly", durable ? "yes" : "no", "--appendfsync", "always");
    }

    @Override
    public String url() {
        return "redis://127.0.0.1:" + port();
    }
}
