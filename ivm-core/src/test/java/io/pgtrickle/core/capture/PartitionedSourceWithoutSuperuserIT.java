package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Installed by a role that is not a superuser, the catalog has no event triggers: a partition
 * created or attached later is captured from the running engine's next housekeeping pass on, and
 * the stream tables reading the root are refilled, so they are exact again from then on.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class PartitionedSourceWithoutSuperuserIT {
    private static final String QUERY = "SELECT id, k, amount FROM orders WHERE amount > 0";
    private final TestDatabase db;

    PartitionedSourceWithoutSuperuserIT(TestDatabase db) {
        this.db = db;
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void partitionsAddedLaterAreCapturedFromTheEnginesNextPassAndTheReadersRefilled(CdcMode mode) throws Exception {
        db.execute("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'pt_owner') THEN"
                        + " CREATE ROLE pt_owner LOGIN REPLICATION PASSWORD 'pt'; END IF; END $$",
                "GRANT CREATE ON DATABASE " + db.name() + " TO pt_owner",
                "GRANT CREATE ON SCHEMA public TO pt_owner");
        // The fixture's settings, connecting as pt_owner (the URL's user wins over credentials).
        EngineConfig fixture = EngineFixture.config(db);
        EngineConfig config = EngineConfig.of(db.jdbcUrl().replaceFirst("user=[^&]*", "user=pt_owner&password=pt"))
                .withSchedulerTick(fixture.schedulerTick()).withRequestPoll(fixture.requestPoll())
                .withRetryPolicy(fixture.retryPolicy()).withCaptureTimeout(fixture.captureTimeout())
                .withTrackingTimeout(fixture.trackingTimeout()).withCdcMode(mode)
                .withSlotName("pgtrickle_" + db.name() + "_" + mode.name().toLowerCase());
        try (PgTrickleEngine engine = PgTrickleEngine.open(config)) {
            assertThat(db.value("SELECT count(*) FROM pg_event_trigger WHERE evtname LIKE 'pgtrickle%'")).isEqualTo(0L);
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            db.execute("SET ROLE pt_owner", "DROP TABLE IF EXISTS orders CASCADE",
                    "CREATE TABLE orders (id int NOT NULL, k int NOT NULL, amount int) PARTITION BY RANGE (k)",
                    "CREATE TABLE o_1 PARTITION OF orders FOR VALUES FROM (0) TO (10)",
                    "INSERT INTO orders VALUES (1, 1, 10), (2, 2, 20)");
            api.create(StreamTableSpec.parse("orders_pos", QUERY, "1h", "DIFFERENTIAL"));
            engine.start();

            db.execute("SET ROLE pt_owner", "CREATE TABLE o_2 PARTITION OF orders FOR VALUES FROM (10) TO (20)",
                    "INSERT INTO orders VALUES (3, 15, 30)");
            awaitCaptured("o_2", mode);
            db.execute("UPDATE orders SET amount = amount + 1", "DELETE FROM o_2 WHERE id = 3",
                    "INSERT INTO o_2 VALUES (4, 11, 40)");
            api.refresh("orders_pos");
            assertThat(db.multisetDifference(QUERY, "SELECT id, k, amount FROM orders_pos")).isEmpty();
            assertThat(db.value("SELECT string_agg(id || ':' || amount, ',' ORDER BY id) FROM orders_pos"))
                    .isEqualTo("1:11,2:21,4:40");
        }
    }

    /** Waits for the housekeeping pass: the new partition's identity (WAL) or triggers (TRIGGER). */
    private void awaitCaptured(String partition, CdcMode mode) throws InterruptedException {
        String probe = mode == CdcMode.WAL
                ? "SELECT relreplident = 'f' FROM pg_class WHERE relname = ?"
                : "SELECT EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = ?::regclass AND tgname LIKE 'pgtrickle\\_capture\\_%')";
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Boolean.TRUE.equals(db.value(probe, partition))) {
            assertThat(System.nanoTime()).as("capture of %s set up by the engine's pass", partition).isLessThan(deadline);
            Thread.sleep(50);
        }
    }
}
