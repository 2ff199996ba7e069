package io.pgtrickle.relay.testing;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A private {@code nats-server -js} on a free port, its JetStream store in a temp directory; open,
 * or requiring a token or a user and password of its clients.
 */
public final class PrivateNatsServer extends PrivateServer {
    private static final String BINARY = "/usr/sbin/nats-server";
    private final List<String> auth;

    public PrivateNatsServer() {
        this(List.of());
    }

    private PrivateNatsServer(List<String> auth) {
        super("nats");
        this.auth = auth;
    }

    /** Starts a new server open to any client; close it to stop it and remove its store. */
    public static PrivateNatsServer started() {
        return started(new PrivateNatsServer());
    }

    /** Starts a new server that accepts only clients presenting {@code token} ({@code --auth}). */
    public static PrivateNatsServer startedWithToken(String token) {
        return started(new PrivateNatsServer(List.of("--auth", token)));
    }

    /** Starts a new server that accepts only {@code user} with {@code password} ({@code --user}, {@code --pass}). */
    public static PrivateNatsServer startedWithUser(String user, String password) {
        return started(new PrivateNatsServer(List.of("--user", user, "--pass", password)));
    }

    private static PrivateNatsServer started(PrivateNatsServer s) {
        s.start();
        return s;
    }

    @Override
    protected List<String> command(int port, Path dataDir) {
        List<String> command = new ArrayList<>(List.of(BINARY, "-js", "-a", "127.0.0.1", "-p", Integer.toString(port),
                "-sd", dataDir.resolve("jetstream").toString()));
        command.addAll(auth);
        return command;
    }

    @Override
    public String url() {
        return "nats://127.0.0.1:" + port();
    }
}
