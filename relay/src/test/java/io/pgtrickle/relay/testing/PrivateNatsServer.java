package io.pgtrickle.relay.testing;

import java.nio.file.Path;
import java.util.List;

/** A private {@code nats-server -js} on a free port, its JetStream store in a temp directory. */
public final class PrivateNatsServer extends PrivateServer {
    private static final String BINARY = "/usr/sbin/nats-server";

    public PrivateNatsServer() {
        super("nats");
    }

    /** Starts a new server; close it to stop it and remove its store. */
    public static PrivateNatsServer started() {
        PrivateNatsServer s = new PrivateNatsServer();
        s.start();
        return s;
    }

    @Override
    protected List<String> command(int port, Path dataDir) {
        return List.of(BINARY, "-js", "-a", "127.0.0.1", "-p", Integer.toString(port),
                "-sd", dataDir.resolve("jetstream").toString());
    }

    @Override
    public String url() {
        return "nats://127.0.0.1:" + port();
    }
}
