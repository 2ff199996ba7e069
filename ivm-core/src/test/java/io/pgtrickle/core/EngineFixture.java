package io.pgtrickle.core;

import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.refresh.RetryPolicy;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;

/** Engines for integration tests: fast ticks and short back-off. */
public final class EngineFixture {
    private EngineFixture() {
    }

    public static EngineConfig config(TestDatabase db) {
        return EngineConfig.of(db.jdbcUrl())
                .withSchedulerTick(Duration.ofMillis(100))
                .withRequestPoll(Duration.ofMillis(200))
                .withRetryPolicy(new RetryPolicy(Duration.ofMillis(50), Duration.ofMillis(200), 3))
                .withSlotName("pgtrickle_" + db.name())
                .withCaptureTimeout(Duration.ofSeconds(20))
                .withTrackingTimeout(Duration.ofSeconds(20));
    }

    /** Drops every stream table (readers first, by cascade), so each test starts from an empty catalog. */
    public static void dropAllStreamTables(StreamTables api) {
        api.list().forEach(st -> api.find(st.name()).ifPresent(still -> api.drop(still.name(), true)));
    }

    public static PgTrickleEngine open(TestDatabase db) {
        return PgTrickleEngine.open(config(db));
    }
}
