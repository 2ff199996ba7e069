package io.pgtrickle.cli;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;

/**
 * The engine one command works with, and the embedded server under it when the command started
 * one. Closing stops the engine first, then the server.
 */
final class EngineSession implements AutoCloseable {
    private final PgTrickleEngine engine;
    private final LocalServer server;

    private EngineSession(PgTrickleEngine engine, LocalServer server) {
        this.engine = engine;
        this.server = server;
    }

    /** Opens the engine on {@code config}; {@code server} (nullable) is closed if that fails. */
    static EngineSession open(EngineConfig config, LocalServer server) {
        try {
            return new EngineSession(PgTrickleEngine.open(config), server);
        } catch (RuntimeException e) {
            if (server != null) {
                server.close();
            }
            throw e;
        }
    }

    PgTrickleEngine engine() {
        return engine;
    }

    @Override
    public void close() {
        try {
            engine.close();
        } finally {
            if (server != null) {
                server.close();
            }
        }
    }
}
