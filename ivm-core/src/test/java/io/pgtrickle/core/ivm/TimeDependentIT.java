package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.refresh.RefreshAnalysis;
import io.pgtrickle.core.refresh.RefreshResult;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Queries whose WHERE compares a column with the clock ({@code ts > now() - interval '3
 * seconds'}) are maintained differentially as sliding windows: after every refresh the stream
 * table equals the query evaluated at the clock that refresh used (recorded in
 * {@code pgtrickle.pgt_refresh_clock}), a refresh with no source change moves only the rows that
 * crossed a boundary, reading them by index, and the scheduler refreshes such a stream table
 * although nothing changed.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class TimeDependentIT {
    /** Stream table -> (its user columns, its query). */
    private static final Map<String, String[]> TABLES = new LinkedHashMap<>();

    static {
        TABLES.put("recent", new String[] {"id, grp, ts", "SELECT id, grp, ts FROM events"
                + " WHERE ts > now() - interval '3 seconds' AND d >= current_date - 1"});
        TABLES.put("recent_counts", new String[] {"grp, n, s, first_ts", "SELECT grp, count(*) AS n, sum(v) AS s,"
                + " min(ts) AS first_ts FROM events WHERE ts > now() - interval '3 seconds' GROUP BY grp"});
        TABLES.put("recent_groups", new String[] {"grp", "SELECT DISTINCT grp FROM events"
                + " WHERE now() - interval '3 seconds' < ts"});
        TABLES.put("recent_joined", new String[] {"id, name", "SELECT e.id, c.name FROM events e"
                + " JOIN cust c ON c.id = e.cust_id WHERE e.ts BETWEEN now() - interval '3 seconds' AND now()"});
        TABLES.put("recent_first", new String[] {"id, ts", "SELECT id, ts FROM events"
                + " WHERE ts > now() - interval '3 seconds' ORDER BY ts, id LIMIT 5"});
        TABLES.put("recent_outer", new String[] {"id, name", "SELECT e.id, c.name FROM events e"
                + " LEFT JOIN cust c ON c.id = e.cust_id WHERE e.ts > now() - interval '2 seconds' AND e.v > 3"});
    }

    private final TestDatabase db;

    TimeDependentIT(TestDatabase db) {
        this.db = db;
    }

    private void setUp() {
        db.execute("DROP TABLE IF EXISTS events CASCADE", "DROP TABLE IF EXISTS cust CASCADE",
                "CREATE TABLE cust (id int PRIMARY KEY, name text)",
                "INSERT INTO cust SELECT g, 'c' || g FROM generate_series(0, 9) g",
                "CREATE TABLE events (id int PRIMARY KEY, grp text, v int, cust_id int, d date, ts timestamptz)",
                "CREATE INDEX events_ts ON events (ts)",
                // Old history the window never reaches: a range read by index skips it.
                "INSERT INTO events SELECT g, 'old', 1, g % 10, current_date - 30, now() - interval '1 day'"
                        + " - g * interval '1 second' FROM generate_series(100000, 120000) g",
                // 60 rows from 3 s ago to 3 s ahead, 100 ms apart: the window's edges cross some every refresh.
                "INSERT INTO events SELECT g, 'g' || (g % 4), g % 7, nullif(g % 11, 10), CASE WHEN g % 9 = 0"
                        + " THEN current_date - 5 ELSE current_date END, now() + (g - 30) * interval '100 milliseconds'"
                        + " FROM generate_series(0, 59) g",
                "ANALYZE events", "ANALYZE cust");
    }

    @Test
    void slidingWindowsStayEqualToTheQueryAtEachRefreshClock() throws Exception {
        setUp();
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            for (var e : TABLES.entrySet()) {
                StreamTableRecord st = api.create(StreamTableSpec.parse(e.getKey(), e.getValue()[1], "1h", "DIFFERENTIAL"));
                assertThat(st.effectiveMode().name()).isEqualTo("DIFFERENTIAL");
                assertAtItsClock(e.getKey());
            }
            var explained = api.explain(QualifiedName.parse("recent"));
            assertThat(explained.strategy()).contains("clock in WHERE, compared with \"ts\", \"d\"  [sliding window");
            assertThat(explained.deltaSql()).contains(":previous_refresh_clock");

            long firstRefresh = (Long) db.value("SELECT max(refresh_id) FROM pgtrickle.pgt_refresh_history");
            int nextId = 1000;
            for (int round = 0; round < 6; round++) {
                // Changes around both edges of the window, then time passes.
                db.execute("INSERT INTO events SELECT g, 'g' || (g % 3), g % 5, g % 12, current_date,"
                                + " now() + ((g % 70) - 35) * interval '100 milliseconds' FROM generate_series("
                                + nextId + ", " + (nextId + 7) + ") g",
                        "UPDATE events SET ts = now() - interval '2900 milliseconds' WHERE id IN (" + (round * 3) + ", "
                                + (round * 3 + 40) + ")",
                        "UPDATE events SET ts = now() + interval '500 milliseconds', v = v + 1 WHERE id = " + (round + 50),
                        "UPDATE events SET grp = 'moved' WHERE id = " + (round + 20),
                        "DELETE FROM events WHERE id IN (" + (round + 30) + ", " + (nextId - 3) + ")");
                nextId += 8;
                pause(Duration.ofMillis(700));
                for (String name : TABLES.keySet()) {
                    RefreshResult r = refreshWhenCaptured(api, name);
                    assertThat(r.action()).as(name).isEqualTo("DIFFERENTIAL");
                    assertAtItsClock(name);
                }
                // Time alone: only the rows that crossed an edge move.
                for (String name : List.of("recent", "recent_joined")) {
                    String before = clockOf(name);
                    pause(Duration.ofMillis(400));
                    RefreshResult r = api.refresh(name);
                    assertThat(r.action()).isEqualTo("DIFFERENTIAL");
                    assertAtItsClock(name);
                    long flipped = flips(name, before, clockOf(name));
                    assertThat(r.rowsInserted() + r.rowsDeleted()).as(name + " round " + round).isEqualTo(flipped);
                }
            }
            assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE refresh_id > ?"
                    + " AND action <> 'DIFFERENTIAL'", firstRefresh)).isEqualTo(0L);
            // The rows have all aged out by now, or came after: either way the window is the query's.
            pause(Duration.ofMillis(3200));
            for (String name : TABLES.keySet()) {
                api.refresh(name);
                assertAtItsClock(name);
            }
        }
    }

    @Test
    void aTimeOnlyRefreshReadsTheCrossedRangeByIndex() {
        setUp();
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("recent", TABLES.get("recent")[1], "1h", "DIFFERENTIAL"));
            pause(Duration.ofMillis(500));
            RefreshAnalysis a = api.explainAnalyze(QualifiedName.parse("recent"));
            assertThat(a.action()).isEqualTo("DIFFERENTIAL");
            List<String> scans = a.statements().stream().filter(s -> s.plan() != null).flatMap(s -> s.plan().lines())
                    .filter(l -> l.matches(".* on events\\b.*")).toList();
            assertThat(scans).as(a.render()).isNotEmpty().allSatisfy(l -> assertThat(l).containsIgnoringCase("index"));
            // The time-only delta reads the events in the crossed range only, not the 20,000 older ones.
            assertThat(a.render()).contains("BETWEEN");
        }
    }

    @Test
    void theSchedulerRefreshesAWindowWhoseSourcesAreIdle() {
        setUp();
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("recent", TABLES.get("recent")[1], "1s", "DIFFERENTIAL"));
            assertThat((Long) db.value("SELECT count(*) FROM recent")).isPositive();
            engine.start();
            // No source changes: time alone empties the window, refresh after refresh.
            try {
            Awaitility.await().atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200))
                    .until(() -> ((Long) db.value("SELECT count(*) FROM recent")) == 0L);
            } catch (RuntimeException e) {
                throw new AssertionError(db.rows("SELECT action, trigger, status, error, started_at FROM pgtrickle.pgt_refresh_history WHERE pgt_name = 'recent' ORDER BY refresh_id DESC LIMIT 5") + " " + db.rows("SELECT schedule, status, last_refresh_at, last_error, effective_mode FROM pgtrickle.pgt_stream_tables") + db.rows("SELECT * FROM pgtrickle.pgt_refresh_clock") + db.rows("SELECT now()") + db.rows("SELECT count(*), min(ts), max(ts) FROM recent"), e);
            }
            assertThat((Long) db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE pgt_name = 'recent'"
                    + " AND trigger = 'SCHEDULE' AND action = 'DIFFERENTIAL' AND status = 'SUCCESS'")).isGreaterThan(1L);
            assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE pgt_name = 'recent'"
                    + " AND trigger = 'SCHEDULE' AND action <> 'DIFFERENTIAL'")).isEqualTo(0L);
        }
    }

    @Test
    void anotherTimeZoneRecomputesAndTheClockMovingBackReadsTheSameRange() throws Exception {
        setUp();
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("recent", TABLES.get("recent")[1], "1h", "DIFFERENTIAL"));
            db.execute("UPDATE pgtrickle.pgt_refresh_clock SET time_zone = 'Asia/Kathmandu'");
            assertThat(api.refresh("recent").action()).isEqualTo("FULL");
            assertAtItsClock("recent");
            pause(Duration.ofMillis(300));
            assertThat(api.refresh("recent").action()).isEqualTo("DIFFERENTIAL");
            assertAtItsClock("recent");
        }
        ClockFilter filter = new ClockFilter(List.of("ts > \"__pgt_clock_ts\" - interval '3 seconds'",
                "d >= \"__pgt_clock_date\" - 1"), List.of(new ClockFilter.Bound("ts", "\"__pgt_clock_ts\" - interval '3 seconds'"),
                new ClockFilter.Bound("d", "\"__pgt_clock_date\" - 1")));
        try (Connection c = db.connect()) {
            ClockMove forward = ClockMove.compute(c, filter, "2026-01-01 10:00:00+00", "2026-01-01 10:00:05+00");
            ClockMove back = ClockMove.compute(c, filter, "2026-01-01 10:00:05+00", "2026-01-01 10:00:00+00");
            assertThat(back.candidates()).isEqualTo(forward.candidates());
            // current_date is the same at both instants: no row can flip on d, and the range on ts alone is read.
            assertThat(forward.candidates().get(1)).isEqualTo("false");
            assertThat(forward.candidateSql()).doesNotContain("\"d\"").doesNotContain("(d)");
            assertThat(db.value("SELECT count(*) FROM (VALUES (timestamptz '2026-01-01 09:59:56+00'),"
                    + " ('2026-01-01 09:59:58+00'), ('2026-01-01 10:00:03+00')) v(ts) WHERE "
                    + forward.candidateSql())).isEqualTo(1L);
        }
    }

    /**
     * The clock moving back (a server clock set back): the delta from a later clock to an earlier one
     * reads the same range with the roles swapped. Applied directly, as a refresh would with that move.
     */
    @Test
    void aClockMovingBackAppliesTheSameRangeInReverse() throws Exception {
        setUp();
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            Map<String, List<String>> columns = Map.of("recent", List.of("id", "grp", "ts"),
                    "recent_counts", List.of("grp", "n", "s", "first_ts"));
            for (var e : columns.entrySet()) {
                api.create(StreamTableSpec.parse(e.getKey(), TABLES.get(e.getKey())[1], "1h", "DIFFERENTIAL"));
            }
            for (var e : columns.entrySet()) {
                String name = e.getKey();
                String later = clockOf(name);
                String earlier = (String) db.value("SELECT (?::timestamptz - interval '1500 milliseconds')::text", later);
                try (Connection c = db.connect()) {
                    IvmPlan plan = new IvmCompiler().compile(c, TABLES.get(name)[1], e.getValue());
                    c.setAutoCommit(false);
                    ClockMove back = ClockMove.compute(c, ClockPlans.of(plan), later, earlier);
                    long relid = ((Number) db.value("SELECT ?::regclass::oid::bigint", name)).longValue();
                    var counts = DeltaApplier.apply(c, QualifiedName.parse(name), relid, plan, Map.of(), back,
                            engine.serverCapabilities(), null);
                    c.commit();
                    assertThat(counts.inserted() + counts.updated() + counts.deleted()).as(name).isPositive();
                }
                assertThat(db.multisetDifference("SELECT " + TABLES.get(name)[0] + " FROM " + name, atClock(name, earlier)))
                        .as(name + " moved back to " + earlier).isEmpty();
            }
        }
    }

    @Test
    void theClockElsewhereStaysRefusedByName() {
        setUp();
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            Map<String, String> refused = new LinkedHashMap<>();
            refused.put("SELECT id, now() AS seen FROM events", "now() in the select list");
            refused.put("SELECT e.id FROM events e JOIN cust c ON c.id = e.cust_id AND e.ts > now()", "now() in the JOIN");
            refused.put("SELECT id FROM events WHERE now() - ts < interval '1 hour'", "mixes it with columns");
            refused.put("SELECT id FROM events WHERE ts > now() OR id IN (SELECT cust_id FROM events WHERE ts > now())",
                    "inside a subquery");
            refused.put("SELECT grp, count(*) AS n FROM events GROUP BY grp HAVING max(ts) > now()", "now() in HAVING");
            refused.put("SELECT id FROM (SELECT id FROM events WHERE ts > now()) x", "a subquery in FROM");
            refused.put("SELECT id FROM events WHERE ts > now() UNION SELECT id FROM cust", "a branch of a set operation");
            refused.put("SELECT id FROM events WHERE ts > clock_timestamp()", "clock_timestamp");
            refused.put("SELECT id FROM events WHERE coalesce(ts > now(), true)", "in the condition");
            int i = 0;
            for (var e : refused.entrySet()) {
                String name = "refused_" + (i++);
                assertThatThrownBy(() -> api.create(StreamTableSpec.parse(name, e.getKey(), "1h", "DIFFERENTIAL")))
                        .as(e.getKey()).hasMessageContaining(e.getValue());
                StreamTableRecord auto = api.create(StreamTableSpec.parse(name, e.getKey(), "1h", "AUTO"));
                assertThat(auto.effectiveMode().name()).as(e.getKey()).isEqualTo("FULL");
                assertThat(auto.modeReason()).contains(e.getValue());
            }
            // Accepted shapes: the clock on either side, BETWEEN, NOT, current_date and localtimestamp.
            for (String q : List.of("SELECT id FROM events WHERE NOT (ts <= now() - interval '3 seconds')",
                    "SELECT id FROM events WHERE d >= current_date - 7 AND ts::timestamp < localtimestamp",
                    "SELECT id FROM events WHERE ts NOT BETWEEN now() - interval '1 hour' AND now() OR v = 1",
                    "SELECT id FROM events WHERE current_timestamp(0) > ts AND transaction_timestamp() - interval '1 day' < ts",
                    "SELECT id FROM events WHERE v > 3 AND now() > timestamptz '2020-01-01'",
                    "SELECT e.id FROM events e WHERE e.ts > now() - interval '2 seconds'"
                            + " AND EXISTS (SELECT 1 FROM cust c WHERE c.id = e.cust_id)")) {
                String name = "accepted_" + (i++);
                StreamTableRecord st = api.create(StreamTableSpec.parse(name, q, "1h", "DIFFERENTIAL"));
                assertThat(st.effectiveMode().name()).isEqualTo("DIFFERENTIAL");
                TABLES.putIfAbsent(name, new String[] {"id", q});
                db.execute("UPDATE events SET v = v + 1 WHERE id % 13 = 0", "DELETE FROM cust WHERE id = " + (i % 10),
                        "UPDATE events SET ts = now() - interval '1900 milliseconds' WHERE id = " + (i + 5));
                pause(Duration.ofMillis(200));
                refreshWhenCaptured(api, name);
                assertAtItsClock(name);
                TABLES.remove(name);
            }
        }
    }

    /** Refreshes once capture has the pending changes (the second refresh then sees them all). */
    private RefreshResult refreshWhenCaptured(StreamTables api, String name) {
        api.explainAnalyze(QualifiedName.parse(name));
        return api.refresh(name);
    }

    private String clockOf(String name) {
        return (String) db.value("SELECT k.clock::text FROM pgtrickle.pgt_refresh_clock k JOIN pgtrickle.pgt_stream_tables s"
                + " USING (pgt_id) WHERE s.pgt_name = ?", name);
    }

    /** The query of {@code name} with the clock fixed at the value its last refresh recorded. */
    private String atClock(String name, String clock) {
        String ts = "'" + clock + "'::timestamptz";
        return TABLES.get(name)[1].replace("current_timestamp(0)", "(" + ts + ")::timestamptz(0)")
                .replace("transaction_timestamp()", ts).replace("now()", ts)
                .replace("current_date", "(" + ts + ")::date").replace("localtimestamp", "(" + ts + ")::timestamp");
    }

    /** The multiset invariant at the clock of the stream table's last refresh. */
    private void assertAtItsClock(String name) {
        String clock = clockOf(name);
        assertThat(clock).as(name + " records its refresh clock").isNotNull();
        assertThat(db.multisetDifference("SELECT " + TABLES.get(name)[0] + " FROM " + name, atClock(name, clock)))
                .as(name + " at " + clock).isEmpty();
    }

    /** The rows of the query whose presence differs between the two clocks (no source changed meanwhile). */
    private long flips(String name, String before, String after) {
        return (Long) db.value("SELECT count(*) FROM ((" + atClock(name, before) + " EXCEPT ALL " + atClock(name, after)
                + ") UNION ALL (" + atClock(name, after) + " EXCEPT ALL " + atClock(name, before) + ")) x");
    }

    private static void pause(Duration d) {
        Awaitility.await().pollDelay(d).atMost(d.plusSeconds(5)).until(() -> true);
    }
}
