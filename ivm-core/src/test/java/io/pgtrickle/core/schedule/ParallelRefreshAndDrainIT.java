package io.pgtrickle.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.Catalog;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.refresh.Refresher;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Independent stream tables refresh concurrently up to the limit, dependants after their sources;
 * {@code pgtrickle.drain()} lets the refreshes in flight finish, starts no new ones until
 * {@code resume()}, and says when it is quiet.
 */
@ExtendWith(PostgresExtension.class)
class ParallelRefreshAndDrainIT {
    private final TestDatabase db;
    private PgTrickleEngine engine;
    private StreamTables api;

    ParallelRefreshAndDrainIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void setUp() {
        engine = EngineFixture.open(db);
        api = engine.streamTables();
        EngineFixture.dropAllStreamTables(api);
        db.execute("SELECT pgtrickle.resume()", "TRUNCATE pgtrickle.pgt_refresh_history",
                "DROP TABLE IF EXISTS items CASCADE",
                "CREATE TABLE items (id int PRIMARY KEY, n int NOT NULL)",
                "INSERT INTO items SELECT g, g FROM generate_series(1, 10) g");
    }

    @AfterEach
    void tearDown() {
        db.execute("SELECT pgtrickle.resume()");
        engine.close();
    }

    private Scheduler scheduler(int maxConcurrent) {
        Catalog catalog = new Catalog();
        return new Scheduler(engine.dataSource(), catalog, new Refresher(engine.dataSource(), catalog,
                EngineFixture.config(db).retryPolicy(), engine.capture(), engine.serverCapabilities()),
                Duration.ofHours(1), maxConcurrent);
    }

    /** A stream table whose every refresh takes about {@code seconds} (pg_sleep: refreshed FULL). */
    private void slow(String name, double seconds, String from) {
        api.create(StreamTableSpec.parse(name, "SELECT id, n, pg_sleep(" + seconds + ") IS NULL AS slept FROM " + from
                + " WHERE id = 1", "100ms", null));
    }

    private long id(String name) {
        return api.require(QualifiedName.parse(name)).id();
    }

    /** [started, finished] of each scheduled refresh of stream table {@code id}, epoch ms. */
    private List<long[]> intervals(long id) throws SQLException {
        List<long[]> out = new ArrayList<>();
        try (Connection c = db.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT (extract(epoch FROM started_at) * 1000)::bigint, (extract(epoch FROM finished_at) * 1000)::bigint"
                        + " FROM pgtrickle.pgt_refresh_history WHERE pgt_id = " + id + " AND trigger = 'SCHEDULE'")) {
            while (rs.next()) {
                out.add(new long[] {rs.getLong(1), rs.getLong(2)});
            }
        }
        return out;
    }

    /** The most scheduled refreshes running at one instant. */
    private static int mostAtOnce(List<long[]> all) {
        int most = 0;
        for (long[] a : all) {
            int n = 0;
            for (long[] b : all) {
                if (b[0] <= a[0] && a[0] < b[1]) {
                    n++;
                }
            }
            most = Math.max(most, n);
        }
        return most;
    }

    @Test
    void independentStreamTablesRefreshConcurrentlyUpToTheLimitAndDependantsAfterTheirSources() throws Exception {
        for (int i = 0; i < 6; i++) {
            slow("par_" + i, 0.4, "items");
        }
        slow("par_reader", 0.1, "par_0"); // reads par_0: starts only after par_0's refresh
        db.execute("UPDATE items SET n = n + 1 WHERE id = 1"); // work for every one: none is confirmed idle
        Thread.sleep(150);
        List<Long> refreshed = scheduler(3).runOnce();

        assertThat(refreshed).hasSize(7);
        List<long[]> all = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            all.addAll(intervals(id("par_" + i)));
        }
        assertThat(all).hasSize(6);
        assertThat(mostAtOnce(all)).as("refreshes at once").isBetween(2, 3);
        long sourceFinished = intervals(id("par_0")).get(0)[1];
        assertThat(intervals(id("par_reader")).get(0)[0]).as("the reader starts after its source").isGreaterThanOrEqualTo(
                sourceFinished);
        assertThat(refreshed.indexOf(id("par_reader"))).isGreaterThan(refreshed.indexOf(id("par_0")));
    }

    @Test
    void concurrentRefreshesOfStreamTablesSharingASourceDoNotFailEachOther() throws Exception {
        for (int i = 0; i < 8; i++) {
            api.create(StreamTableSpec.parse("sh_" + i, "SELECT n % 3 AS k, sum(n * " + (i + 1) + ") AS total FROM items"
                    + " GROUP BY n % 3", "100ms", null));
        }
        Scheduler scheduler = scheduler(4);
        for (int pass = 0; pass < 4; pass++) {
            db.execute("UPDATE items SET n = n + 1 WHERE id % 2 = " + (pass % 2), "INSERT INTO items VALUES ("
                    + (100 + pass) + ", " + pass + ")");
            Thread.sleep(150);
            assertThat(scheduler.runOnce()).as("pass " + pass).hasSize(8);
        }
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE status <> 'SUCCESS'"))
                .as("failed refreshes").isEqualTo(0L);
        for (int i = 0; i < 8; i++) {
            assertThat(db.value("SELECT count(*) FROM ((SELECT k, total FROM sh_" + i + " EXCEPT ALL SELECT n % 3, sum(n * "
                    + (i + 1) + ") FROM items GROUP BY n % 3) UNION ALL (SELECT n % 3, sum(n * " + (i + 1) + ") FROM items"
                    + " GROUP BY n % 3 EXCEPT ALL SELECT k, total FROM sh_" + i + ")) d")).as("sh_" + i).isEqualTo(0L);
        }
    }

    @Test
    void drainLetsTheRefreshInFlightFinishStartsNoNewOneAndResumeEndsIt() throws Exception {
        slow("dr_slow", 1.5, "items");
        api.create(StreamTableSpec.parse("dr_next", "SELECT id, n FROM dr_slow", "100ms", null)); // due after dr_slow
        db.execute("UPDATE items SET n = n + 1 WHERE id = 1"); // work for dr_slow: not confirmed idle, it refreshes
        Thread.sleep(150);
        Scheduler scheduler = scheduler(1);
        CompletableFuture<List<Long>> tick = CompletableFuture.supplyAsync(() -> {
            try {
                return scheduler.runOnce();
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            waitUntil(c, "pgtrickle._refreshes_in_flight() = 1");
            try (ResultSet rs = s.executeQuery("SELECT quiet, in_flight FROM pgtrickle.drain('0 seconds')")) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("not quiet with a refresh in flight").isFalse();
                assertThat(rs.getInt(2)).isEqualTo(1);
            }
            try (ResultSet rs = s.executeQuery("SELECT quiet, in_flight, waited > interval '0' FROM pgtrickle.drain('20 seconds')")) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("quiet once the refresh finished").isTrue();
                assertThat(rs.getInt(2)).isZero();
                assertThat(rs.getBoolean(3)).isTrue();
            }
            assertThat(tick.get(20, TimeUnit.SECONDS)).as("the tick finished dr_slow and started nothing after it")
                    .containsExactly(id("dr_slow"));
            Thread.sleep(150);
            assertThat(scheduler.runOnce()).as("paused: nothing starts").isEmpty();
            assertThat(intervals(id("dr_next"))).isEmpty();
            try (ResultSet rs = s.executeQuery("SELECT pgtrickle.resume(), pgtrickle.resume()")) {
                rs.next();
                assertThat(rs.getBoolean(1)).as("it was paused").isTrue();
                assertThat(rs.getBoolean(2)).as("no longer").isFalse();
            }
            assertThat(scheduler.runOnce()).contains(id("dr_next"));
            assertThatThrownBy(() -> s.executeQuery("SELECT * FROM pgtrickle.drain('-1 second')"))
                    .hasMessageContaining("invalid drain timeout").hasMessageContaining("30 seconds");
        }
    }

    @Test
    void anEngineDrainedInProcessStartsNothingUntilResumedAndRecordsNoPause() throws Exception {
        api.create(StreamTableSpec.parse("ep_copy", "SELECT id, n FROM items", "100ms", null));
        Thread.sleep(150);
        Scheduler scheduler = scheduler(2);
        assertThat(scheduler.drain(Duration.ofSeconds(5))).isTrue();
        assertThat(scheduler.runOnce()).isEmpty();
        assertThat(db.value("SELECT paused FROM pgtrickle.pgt_engine_state")).isEqualTo(false);
        scheduler.resume();
        assertThat(scheduler.runOnce()).containsExactly(id("ep_copy"));
    }

    private static void waitUntil(Connection c, String condition) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT " + condition)) {
                rs.next();
                if (rs.getBoolean(1)) {
                    return;
                }
            }
            Thread.sleep(20);
        }
        throw new AssertionError("timed out waiting for " + condition);
    }
}
