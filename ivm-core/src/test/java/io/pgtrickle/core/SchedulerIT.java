package io.pgtrickle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.catalog.Catalog;
import io.pgtrickle.core.catalog.Status;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.refresh.Refresher;
import io.pgtrickle.core.refresh.RetryPolicy;
import io.pgtrickle.core.schedule.Scheduler;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Scheduling: due-ness, topological order, CALCULATED schedules, back-off and suspension. */
@ExtendWith(PostgresExtension.class)
class SchedulerIT {
    private final TestDatabase db;
    private PgTrickleEngine engine;
    private StreamTables api;

    SchedulerIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void setUp() {
        engine = EngineFixture.open(db);
        api = engine.streamTables();
        EngineFixture.dropAllStreamTables(api);
        db.execute("TRUNCATE pgtrickle.pgt_refresh_history",
                "DROP TABLE IF EXISTS events, fragile CASCADE",
                "CREATE TABLE events (id serial PRIMARY KEY, kind text NOT NULL, n int NOT NULL)",
                "INSERT INTO events (kind, n) VALUES ('a', 1), ('b', 2), ('a', 3)");
    }

    @AfterEach
    void tearDown() {
        engine.close();
    }

    private Scheduler manualScheduler() {
        Catalog catalog = new Catalog();
        return new Scheduler(engine.dataSource(), catalog,
                new Refresher(engine.dataSource(), catalog, EngineFixture.config(db).retryPolicy(), engine.capture(),
                        engine.serverCapabilities()),
                Duration.ofHours(1));
    }

    private long id(String name) {
        return api.require(QualifiedName.parse(name)).id();
    }

    @Test
    void dueStreamTablesRefreshUpstreamFirstAndCalculatedInheritsFromReaders() throws Exception {
        // Created in an order that is not the dependency order's reverse by accident.
        api.create(StreamTableSpec.parse("per_kind", "SELECT kind, sum(n) AS total FROM events GROUP BY kind",
                "calculated", null));
        api.create(StreamTableSpec.parse("kinds", "SELECT count(*) AS kinds, sum(total) AS total FROM per_kind",
                "calculated", null));
        api.create(StreamTableSpec.parse("report", "SELECT kinds * 10 AS score, total FROM kinds", "100ms", null));
        api.create(StreamTableSpec.parse("orphan", "SELECT max(n) AS m FROM events", "calculated", null));
        api.create(StreamTableSpec.parse("slow", "SELECT min(n) AS m FROM events", "1h", null));
        Thread.sleep(150);

        List<Long> refreshed = manualScheduler().runOnce();

        assertThat(refreshed).containsExactly(id("per_kind"), id("kinds"), id("report"));
    }

    @Test
    void aChangeCascadesThroughThreeLayersOnSchedule() {
        api.create(StreamTableSpec.parse("per_kind", "SELECT kind, sum(n) AS total FROM events GROUP BY kind",
                "calculated", null));
        api.create(StreamTableSpec.parse("kinds", "SELECT count(*) AS kinds, sum(total) AS total FROM per_kind",
                "calculated", null));
        api.create(StreamTableSpec.parse("report", "SELECT kinds * 10 AS score, total FROM kinds", "200ms", null));
        engine.start();

        db.execute("INSERT INTO events (kind, n) VALUES ('c', 100)");

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(db.rows("SELECT score, total FROM report")).containsExactly(List.of(30L, new java.math.BigDecimal("106"))));
        // Layers created a few milliseconds apart may first come due in different ticks, but each
        // layer's first scheduled refresh follows the one below it.
        List<List<Object>> order = db.rows("SELECT pgt_name FROM pgtrickle.pgt_refresh_history "
                + "WHERE trigger = 'SCHEDULE' GROUP BY pgt_name ORDER BY min(refresh_id)");
        assertThat(order).containsExactly(List.of("per_kind"), List.of("kinds"), List.of("report"));
    }

    @Test
    void idleStreamTablesAreConfirmedCurrentWithoutARefreshAndAChangeStillCascadesInOneTick() throws Exception {
        api.create(StreamTableSpec.parse("per_kind", "SELECT kind, sum(n) AS total FROM events GROUP BY kind",
                "calculated", null));
        api.create(StreamTableSpec.parse("kinds", "SELECT count(*) AS kinds, sum(total) AS total FROM per_kind",
                "calculated", null));
        api.create(StreamTableSpec.parse("report", "SELECT kinds * 10 AS score, total FROM kinds", "100ms", null));
        Scheduler scheduler = manualScheduler();
        // As the engine's own scheduler does: pending source events keep a stream table from being confirmed.
        scheduler.addHousekeeping(new io.pgtrickle.core.lifecycle.SourceChangeHandler(engine.dataSource(), new Catalog(),
                api, engine.capture().sources())::handlePending);
        Object frontierBefore = db.value("SELECT frontier::text FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'report'");
        Object lastRefreshBefore = db.value("SELECT max(last_refresh_at)::text FROM pgtrickle.pgt_stream_tables");
        Thread.sleep(150);

        // Nothing changed since creation: all three are confirmed current, none is refreshed.
        assertThat(scheduler.runOnce()).containsExactly(id("per_kind"), id("kinds"), id("report"));
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE trigger = 'SCHEDULE'"))
                .as("an idle confirmation writes no history row; events %s",
                        db.rows("SELECT source, command, handled FROM pgtrickle.pgt_source_events")).isEqualTo(0L);
        assertThat(db.value("SELECT frontier::text FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'report'"))
                .as("the frontier moves forward").isNotEqualTo(frontierBefore);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables"
                + " WHERE last_refresh_at > '" + lastRefreshBefore + "'::timestamptz AND data_timestamp = last_refresh_at"))
                .as("last refresh and data timestamp move to the confirmation's snapshot").isEqualTo(3L);

        // A change: the upstream refreshes with work, and its readers, confirmed idle at the tick's
        // earlier snapshot, are refreshed after it in the same tick.
        db.execute("INSERT INTO events (kind, n) VALUES ('c', 100)");
        Thread.sleep(150);
        assertThat(scheduler.runOnce()).containsExactly(id("per_kind"), id("kinds"), id("report"));
        assertThat(db.rows("SELECT score, total FROM report")).containsExactly(List.of(30L, new java.math.BigDecimal("106")));
        assertThat(db.rows("SELECT pgt_name, action FROM pgtrickle.pgt_refresh_history WHERE trigger = 'SCHEDULE'"
                + " ORDER BY refresh_id")).containsExactly(List.of("per_kind", "DIFFERENTIAL"),
                List.of("kinds", "DIFFERENTIAL"), List.of("report", "DIFFERENTIAL"));

        // Idle again: confirmed, and the contents still equal a fresh run of each query.
        Thread.sleep(150);
        assertThat(scheduler.runOnce()).containsExactly(id("per_kind"), id("kinds"), id("report"));
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE trigger = 'SCHEDULE'")).isEqualTo(3L);
        assertThat(db.rows("(SELECT kind, total FROM per_kind EXCEPT ALL SELECT kind, sum(n) FROM events GROUP BY kind)"
                + " UNION ALL (SELECT kind, sum(n) FROM events GROUP BY kind EXCEPT ALL SELECT kind, total FROM per_kind)"))
                .isEmpty();
    }

    @Test
    void withTiersAStreamTableIdleForEightChecksIsCheckedEveryFourthTimeAndAChangeBringsItBack() throws Exception {
        api.create(StreamTableSpec.parse("quiet", "SELECT kind, sum(n) AS total FROM events GROUP BY kind", "100ms", null));
        Scheduler scheduler = manualScheduler();
        scheduler.addHousekeeping(new io.pgtrickle.core.lifecycle.SourceChangeHandler(engine.dataSource(), new Catalog(),
                api, engine.capture().sources())::handlePending);
        scheduler.setTiered(true);
        long quiet = id("quiet");
        List<Boolean> checked = new java.util.ArrayList<>();
        for (int i = 0; i < 16; i++) {
            Thread.sleep(120);
            checked.add(scheduler.runOnce().contains(quiet));
        }
        // 8 idle checks, then one in four (where in the four is staggered by id)
        assertThat(checked.subList(0, 8)).containsOnly(true);
        List<Integer> later = new java.util.ArrayList<>();
        for (int i = 8; i < 16; i++) {
            if (checked.get(i)) {
                later.add(i);
            }
        }
        assertThat(later).as("checks among ticks 8-15: %s", checked).hasSize(2);
        assertThat(later.get(1) - later.get(0)).isEqualTo(4);
        db.execute("INSERT INTO events (kind, n) VALUES ('z', 5)");
        int ticks = 0;
        while (db.rows("SELECT 1 FROM quiet WHERE kind = 'z'").isEmpty()) {
            assertThat(ticks++).as("the change is seen at the next check").isLessThan(COLD_CHECK_WITHIN);
            Thread.sleep(120);
            scheduler.runOnce();
        }
        Thread.sleep(120);
        assertThat(scheduler.runOnce()).as("back to every check after a refresh with work").contains(quiet);
    }

    private static final int COLD_CHECK_WITHIN = 5;

    @Test
    void withoutTiersEveryDueCheckRuns() throws Exception {
        api.create(StreamTableSpec.parse("quiet", "SELECT kind, sum(n) AS total FROM events GROUP BY kind", "100ms", null));
        Scheduler scheduler = manualScheduler();
        for (int i = 0; i < 12; i++) {
            Thread.sleep(120);
            assertThat(scheduler.runOnce()).as("tick " + i).containsExactly(id("quiet"));
        }
    }

    @Test
    void repeatedFailuresBackOffThenSuspendWhileOthersKeepRunning() {
        db.execute("CREATE TABLE fragile (v int)", "INSERT INTO fragile VALUES (1)");
        api.create(StreamTableSpec.parse("fragile_st", "SELECT v FROM fragile", "100ms", null));
        api.create(StreamTableSpec.parse("healthy", "SELECT count(*) AS n FROM events", "100ms", null));
        db.execute("DROP TABLE fragile");
        engine.start();

        await().atMost(Duration.ofSeconds(15)).until(() ->
                api.require(QualifiedName.parse("fragile_st")).status() == Status.SUSPENDED);

        StreamTableRecord suspended = api.require(QualifiedName.parse("fragile_st"));
        assertThat(suspended.consecutiveErrors()).isEqualTo(3);
        assertThat(suspended.lastError()).contains("source public.fragile is no longer tracked");
        assertThat(db.rows("SELECT count(*), min(finished_at) < max(started_at) FROM pgtrickle.pgt_refresh_history "
                + "WHERE pgt_name = 'fragile_st' AND status = 'FAILED'")).containsExactly(List.of(3L, true));
        assertThat(db.value("SELECT last_error FROM pgtrickle.pgt_status() WHERE name = 'public.fragile_st'"))
                .asString().contains("source public.fragile is no longer tracked");

        // The healthy one keeps refreshing.
        db.execute("INSERT INTO events (kind, n) VALUES ('z', 9)");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(db.value("SELECT n FROM healthy")).isEqualTo(4L));
        // Suspended: no more attempts.
        Object failures = db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE pgt_name = 'fragile_st'");
        db.execute("SELECT pg_sleep(0.5)");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE pgt_name = 'fragile_st'"))
                .isEqualTo(failures);

        // Fix the cause and resume.
        db.execute("CREATE TABLE fragile (v int)", "INSERT INTO fragile VALUES (7)");
        api.alter("fragile_st", AlterSpec.none().withStatus(Status.ACTIVE));
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                assertThat(db.rows("SELECT v FROM fragile_st")).containsExactly(List.of(7)));
        assertThat(api.require(QualifiedName.parse("fragile_st")).status()).isEqualTo(Status.ACTIVE);
    }

    @Test
    void backOffGrowsAndIsCapped() {
        RetryPolicy p = new RetryPolicy(Duration.ofSeconds(1), Duration.ofSeconds(10), 5);
        assertThat(List.of(p.backoffAfter(1), p.backoffAfter(2), p.backoffAfter(3), p.backoffAfter(5), p.backoffAfter(40)))
                .containsExactly(Duration.ofSeconds(1), Duration.ofSeconds(2), Duration.ofSeconds(4),
                        Duration.ofSeconds(10), Duration.ofSeconds(10));
    }
}
