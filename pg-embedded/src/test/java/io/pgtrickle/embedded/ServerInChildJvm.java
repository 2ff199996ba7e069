package io.pgtrickle.embedded;

import java.nio.file.Path;

/**
 * Started as a separate JVM by tests: starts a persistent embedded server on the data directory
 * given as the first argument, prints its port, then waits to be killed.
 */
public final class ServerInChildJvm {
    static final String READY = "ready on port ";

    private ServerInChildJvm() {
    }

    public static void main(String[] args) throws InterruptedException {
        EmbeddedPostgresServer server = EmbeddedPostgresServer.start(
                EmbeddedPostgresServer.Options.persistent(0, Path.of(args[0])));
        System.out.println(READY + server.port());
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }
}
