package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Change buffers stay small with autovacuum off (issue 11): consumed rows are truncated away (or
 * vacuumed when live rows remain), and a TRUNCATE never loses a row committed around it.
 * Autovacuum is disabled per buffer, so other tests on the shared server are not affected.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class BufferMaintenanceIT {
    private static final long BOUND_BYTES = 2L * 1024 * 1024;

    private final TestDatabase db;
    private PgTrickleEngine engine;
    private StreamTables api;

    BufferMaintenanceIT(TestDatabase db) {
        this.db = db;
    }

    private void open(CdcMode mode) {
        engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode));
        api = engine.streamTables();
        EngineFixture.dropAllStreamTables(api);
        db.execute("DROP TABLE IF EXISTS t CASCADE", "CREATE TABLE t (id int PRIMARY KEY, grp int NOT NULL, v int NOT NULL)");
    }

    @AfterEach
    void close() {
        if (engine != null) {
            engine.close();
        }
    }

    private String buffer() {
        return "pgtrickle_changes.changes_" + db.value("SELECT 't'::regclass::oid::bigint");
    }

    private void autovacuumOff() {
        db.execute("ALTER TABLE " + buffer() + " SET (autovacuum_enabled = false, toast.autovacuum_enabled = false)");
    }

    private long bufferBytes() {
        return (Long) db.value("SELECT pg_total_relation_size('" + buffer() + "'::regclass)");
    }

    /** Runs on every call (no interval), with the engine's thresholds. */
    private BufferMaintenance eager() {
        BufferMaintenance.Policy d = BufferMaintenance.Policy.DEFAULT;
        return new BufferMaintenance(engine.dataSource(),
                new BufferMaintenance.Policy(Duration.ZERO, d.minBytes(), d.vacuumDeadRows(), d.lockTimeout()));
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void theBufferStaysUnderTwoMegabytesOverTwoHundredCyclesOfAThousandChanges(CdcMode mode) {
        open(mode);
        String query = "SELECT grp, count(*) AS n, sum(v) AS total FROM t GROUP BY grp";
        api.create(StreamTableSpec.parse("t_sum", query, "calculated", "DIFFERENTIAL"));
        autovacuumOff();
        BufferMaintenance maintenance = eager();
        long maxBefore = 0;
        long maxAfter = 0;
        int low = 0;
        for (int cycle = 0; cycle < 200; cycle++) {
            // 400 inserts, up to 400 updates, 200 deletes: 1,000 changed rows, in three commits.
            int next = cycle * 400;
            db.execute("INSERT INTO t SELECT g, g % 17, g FROM generate_series(" + next + ", " + (next + 399) + ") g",
                    "DELETE FROM t WHERE id >= " + low + " AND id < " + (low + 200),
                    "UPDATE t SET v = v + 1, grp = (grp + 1) % 17 WHERE id >= " + (low + 200) + " AND id < " + (low + 600));
            low += 200;
            assertThat(api.refresh("t_sum").action()).isEqualTo("DIFFERENTIAL");
            maxBefore = Math.max(maxBefore, bufferBytes());
            maintenance.run(); // what the scheduler's housekeeping does on a tick
            maxAfter = Math.max(maxAfter, bufferBytes());
        }
        long consumed = ((Number) db.value("SELECT sum(window_rows) FROM pgtrickle.pgt_refresh_history h"
                + " JOIN pgtrickle.pgt_stream_tables st USING (pgt_id) WHERE st.pgt_name = 't_sum'")).longValue();
        BufferMaintenance.Counts counts = maintenance.counts();
        System.out.printf("BufferMaintenanceIT %s: %d buffer rows consumed; buffer at most %d bytes after a refresh,"
                + " %d after maintenance; %s%n", mode, consumed, maxBefore, maxAfter, counts);
        // Without maintenance the consumed rows (dozens of bytes each) would stay as dead space, far past the bound.
        assertThat(consumed * 40).isGreaterThan(5 * BOUND_BYTES);
        assertThat(maxAfter).isLessThan(BOUND_BYTES);
        assertThat(bufferBytes()).isLessThan(BOUND_BYTES);
        assertThat(counts.truncated()).isPositive();
        assertThat(db.multisetDifference("SELECT grp, n, total FROM t_sum", query)).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void theRunningEngineTruncatesAConsumedBufferOnItsOwn(CdcMode mode) {
        open(mode);
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", "DIFFERENTIAL"));
        autovacuumOff();
        db.execute("INSERT INTO t SELECT g, g % 17, g FROM generate_series(1, 20000) g");
        api.refresh("t_all");
        assertThat(bufferBytes()).isGreaterThan(BufferMaintenance.Policy.DEFAULT.minBytes());
        engine.start();

        await().atMost(Duration.ofSeconds(30)).until(() -> engine.capture().bufferMaintenance().counts().truncated() >= 1);
        assertThat(bufferBytes()).isLessThan(BufferMaintenance.Policy.DEFAULT.minBytes());
        db.execute("INSERT INTO t VALUES (0, 0, 0)");
        api.refresh("t_all");
        assertThat(db.multisetDifference("SELECT id, grp, v FROM t_all", "SELECT * FROM t")).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void aBufferWithLiveRowsAndManyDeadOnesIsVacuumed(CdcMode mode) {
        open(mode);
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", "DIFFERENTIAL"));
        autovacuumOff();
        db.execute("INSERT INTO t SELECT g, g % 17, g FROM generate_series(1, 20000) g");
        api.refresh("t_all");
        // Under WAL capture the window's rows are buffered after the refresh's snapshot: the next cleanup deletes them.
        api.refresh("t_all");
        db.execute("INSERT INTO t VALUES (0, 0, 0)");
        // The one new row is buffered (WAL capture writes it asynchronously) and not consumed.
        await().atMost(Duration.ofSeconds(20)).until(() -> (Long) db.value("SELECT count(*) FROM " + buffer()) == 1L);
        await().atMost(Duration.ofSeconds(20)).until(() -> (Long) db.value("SELECT n_dead_tup FROM pg_stat_user_tables"
                + " WHERE relid = '" + buffer() + "'::regclass") > 10_000L);
        BufferMaintenance maintenance = eager();
        maintenance.run();

        assertThat(maintenance.counts().vacuumed()).isEqualTo(1);
        assertThat(maintenance.counts().truncated()).isZero();
        assertThat((Long) db.value("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relid = '" + buffer() + "'::regclass"))
                .isLessThan(100L);
        api.refresh("t_all");
        assertThat(db.multisetDifference("SELECT id, grp, v FROM t_all", "SELECT * FROM t")).isEmpty();
    }

    /**
     * Trigger capture writes the buffer inside the writer's transaction, so a TRUNCATE has to wait
     * for that writer's lock; when it commits meanwhile, the check under the lock sees its row.
     */
    @Test
    void aTruncateWaitingOnAWritersLockKeepsTheRowThatWriterCommitted() throws Exception {
        open(CdcMode.TRIGGER);
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", "DIFFERENTIAL"));
        autovacuumOff();
        db.execute("INSERT INTO t SELECT g, g % 17, g FROM generate_series(1, 20000) g");
        api.refresh("t_all");
        BufferMaintenance maintenance = new BufferMaintenance(engine.dataSource(),
                new BufferMaintenance.Policy(Duration.ZERO, 0, Long.MAX_VALUE, Duration.ofSeconds(5)));
        try (Connection writer = db.connect(); Statement s = writer.createStatement()) {
            writer.setAutoCommit(false);
            s.execute("INSERT INTO t VALUES (0, 0, 0)");
            CompletableFuture<Void> pass = CompletableFuture.runAsync(maintenance::run);
            // The pass found the buffer empty (the row is not committed) and waits for the writer's lock.
            await().atMost(Duration.ofSeconds(10)).until(() -> (Long) db.value("SELECT count(*) FROM pg_locks l"
                    + " WHERE NOT l.granted AND l.relation = '" + buffer() + "'::regclass AND l.mode = 'AccessExclusiveLock'") == 1L);
            writer.commit();
            pass.get(10, TimeUnit.SECONDS);
        }
        assertThat(maintenance.counts()).isEqualTo(new BufferMaintenance.Counts(0, 0, 0, 1));
        assertThat((Long) db.value("SELECT count(*) FROM " + buffer())).isEqualTo(1L);
        api.refresh("t_all");
        assertThat(db.multisetDifference("SELECT id, grp, v FROM t_all", "SELECT * FROM t")).isEmpty();
        assertThat((Long) db.value("SELECT count(*) FROM t_all")).isEqualTo(20_001L);
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void truncatesRunningHardAmongWritersAndRefreshesLoseNoRowAndDuplicateNone(CdcMode mode) throws Exception {
        open(mode);
        db.execute("ALTER TABLE t ADD COLUMN writer int");
        api.create(StreamTableSpec.parse("t_all", "SELECT id, writer FROM t", "calculated", "DIFFERENTIAL"));
        autovacuumOff();
        // Every pass looks at the buffer and truncates it whenever it is empty.
        BufferMaintenance maintenance = new BufferMaintenance(engine.dataSource(),
                new BufferMaintenance.Policy(Duration.ZERO, 0, 10_000, Duration.ofMillis(50)));
        AtomicBoolean running = new AtomicBoolean(true);
        AtomicInteger inserted = new AtomicInteger();
        List<CompletableFuture<Void>> work = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
            int writer = w;
            work.add(CompletableFuture.runAsync(() -> write(writer, running, inserted)));
        }
        work.add(CompletableFuture.runAsync(() -> {
            while (running.get()) {
                api.refresh("t_all");
            }
        }));
        // A pass every 10 ms, 200 times the engine's pace: TRUNCATEs race the writers' commits.
        work.add(CompletableFuture.runAsync(() -> {
            while (running.get()) {
                maintenance.run();
                pause(10);
            }
        }));
        try {
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(200))
                    .until(() -> maintenance.counts().truncated() >= 10 && inserted.get() >= 1_000);
        } finally {
            running.set(false);
            System.out.printf("BufferMaintenanceIT %s under load: %d rows inserted; %s%n", mode, inserted.get(),
                    maintenance.counts());
            CompletableFuture.allOf(work.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);
        }
        api.refresh("t_all");

        assertThat((Long) db.value("SELECT count(*) FROM t")).isEqualTo((long) inserted.get());
        assertThat(db.multisetDifference("SELECT id, writer FROM t_all", "SELECT id, writer FROM t")).isEmpty();
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * One or two rows a transaction, now and then held open a few ms before commit (the buffer's
     * lock is then held in trigger mode), in bursts with pauses, so that the buffer is sometimes
     * fully consumed while the other writer is busy.
     */
    private void write(int writer, AtomicBoolean running, AtomicInteger inserted) {
        Random random = new Random(11 + writer);
        int next = writer * 10_000_000;
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            while (running.get()) {
                int rows = 1 + random.nextInt(2);
                s.execute("INSERT INTO t SELECT g, g % 17, g, " + writer + " FROM generate_series(" + next + ", "
                        + (next + rows - 1) + ") g");
                if (random.nextInt(4) == 0) {
                    Thread.sleep(random.nextInt(10));
                }
                c.commit();
                next += rows;
                inserted.addAndGet(rows);
                if (random.nextInt(15) == 0) {
                    Thread.sleep(50 + random.nextInt(200));
                }
            }
        } catch (Exception e) {
            throw new IllegalStateException("writer " + writer + " failed", e);
        }
    }
}
