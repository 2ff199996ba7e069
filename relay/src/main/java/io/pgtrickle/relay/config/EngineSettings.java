package io.pgtrickle.relay.config;

import java.nio.file.Path;

/**
 * {@code [engine]}: whether the relay hosts the engine in its process ({@code enabled}) and whether
 * it also starts its own PostgreSQL 18 ({@code embedded}, which implies enabled; then
 * {@code postgres_url} is not needed) in {@code dataDir} on {@code port} (0: any free port). The
 * hosted engine's replication slot is {@code slotName}; it refreshes up to
 * {@code maxConcurrentRefreshes} stream tables at once, tiered or not ({@code tieredScheduling}).
 */
public record EngineSettings(boolean enabled, boolean embedded, Path dataDir, int port, String slotName,
                             int maxConcurrentRefreshes, boolean tieredScheduling) {
    public static final String DEFAULT_SLOT = "pgtrickle_slot";
    public static final EngineSettings NONE = new EngineSettings(false, false, null, 0, DEFAULT_SLOT, 1, false);

    /** Refreshing one by one, untiered. */
    public EngineSettings(boolean enabled, boolean embedded, Path dataDir, int port, String slotName) {
        this(enabled, embedded, dataDir, port, slotName, 1, false);
    }

    public boolean hosted() {
        return enabled || embedded;
    }
}
