package io.pgtrickle.core.immediate;

import static io.pgtrickle.core.immediate.ImmediateModeIT.differences;
import static io.pgtrickle.core.immediate.ImmediateModeIT.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Stream tables over one table lock their writers by key, not as a whole: writers of different
 * rows go on in parallel, writers producing a common output row or group wait for each other
 * (READ COMMITTED) or fail to serialize (a REPEATABLE READ snapshot that missed the other's
 * commit), whatever the isolation of the other; and the stored occurrences stay numbered 1…k.
 */
@ExtendWith(PostgresExtension.class)
class ImmediateKeyLocksIT {
    /** Name → query: a multiset projection (duplicates), an algebraic aggregate, a DISTINCT (group rescan). */
    private static final Map<String, String> BY_KEY = Map.of(
            "kl_proj", "SELECT dept_id, salary FROM emp WHERE salary > 0",
            "kl_agg", "SELECT dept_id, count(*) AS n, sum(salary) AS total FROM emp GROUP BY dept_id",
            "kl_distinct", "SELECT DISTINCT dept_id, salary > 100 AS high FROM emp");
    private static final String JOIN = "SELECT e.id, d.dname FROM emp e JOIN dept d ON d.id = e.dept_id";

    private static void createByKey(StreamTables api) {
        EngineFixture.dropAllStreamTables(api);
        BY_KEY.forEach((name, query) -> api.create(StreamTableSpec.parse(name, query, "1m", "IMMEDIATE")));
    }

    private static void assertExact(Connection c, String when) throws SQLException {
        List<String> diff = new ArrayList<>();
        for (Map.Entry<String, String> st : BY_KEY.entrySet()) {
            diff.addAll(differences(c, st.getKey(), st.getValue()));
            // occurrences of a row content are numbered 1…k by row id: a stale count would leave gaps
            Long gaps = value(c, "SELECT count(*) FROM (SELECT __pgt_h, count(*) AS k FROM " + st.getKey()
                    + " GROUP BY __pgt_h) g, generate_series(1, g.k) j WHERE NOT EXISTS (SELECT 1 FROM " + st.getKey()
                    + " s WHERE s.__pgt_row_id = md5(g.__pgt_h::text || ':' || j)::uuid)");
            assertThat(gaps).as(when + ": occurrence gaps in " + st.getKey()).isZero();
        }
        assertThat(diff).as(when).isEmpty();
    }

    private static Long value(Connection c, String sql) throws SQLException {
        try (var s = c.createStatement(); var rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static CompletableFuture<Void> async(Connection c, String... statements) {
        return CompletableFuture.runAsync(() -> {
            try {
                for (String sql : statements) {
                    run(c, sql);
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** The statements waiting for a lock and what they wait for, for a failure message. */
    private static List<String> blocked(Connection c) throws SQLException {
        List<String> out = new ArrayList<>();
        try (var s = c.createStatement(); var rs = s.executeQuery("SELECT a.wait_event_type || '/' || a.wait_event || ': '"
                + " || a.query || ' <- ' || string_agg(l.locktype || ' ' || coalesce(l.relation::regclass::text, '')"
                + " || ' ' || l.mode || ' ' || coalesce(l.page || ',' || l.tuple, ''), ', ') FROM pg_stat_activity a JOIN pg_locks l ON l.pid = a.pid AND (NOT l.granted OR l.locktype = 'tuple')"
                + " GROUP BY a.pid, a.wait_event_type, a.wait_event, a.query")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    @Test
    void writersOfDifferentRowsDoNotWaitButAJoinStillSerialisesThem(TestDatabase db) throws Exception {
        ImmediateModeIT.schema(db);
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection a = db.connect(); Connection b = db.connect()) {
            createByKey(engine.streamTables());
            a.setAutoCommit(false);
            run(a, "UPDATE emp SET salary = salary + 1 WHERE id = 1"); // dept 1, held open
            // dept 2's rows and group: other keys, so b completes while a's transaction is open
            CompletableFuture<Void> other = async(b, "UPDATE emp SET salary = salary + 1 WHERE id = 3",
                    "INSERT INTO emp VALUES (20, 'new', 2, 70)", "DELETE FROM emp WHERE id = 20");
            try (Connection watch = db.connect()) {
                for (int i = 0; i < 100 && !other.isDone(); i++) {
                    Thread.sleep(100);
                }
                assertThat(other).as("a writer of other keys goes on; blocked: %s", blocked(watch)).isDone();
            }
            other.get();
            a.commit();
            a.setAutoCommit(true);
            assertExact(a, "after writers of different keys");

            engine.streamTables().create(StreamTableSpec.parse("kl_join", JOIN, "1m", "IMMEDIATE"));
            a.setAutoCommit(false);
            run(a, "UPDATE emp SET salary = salary + 1 WHERE id = 1");
            CompletableFuture<Void> second = async(b, "UPDATE emp SET salary = salary + 1 WHERE id = 3");
            Thread.sleep(500);
            assertThat(second).as("a join's writers wait for each other").isNotDone();
            a.commit();
            second.get(20, TimeUnit.SECONDS);
            a.setAutoCommit(true);
            assertThat(differences(a, "kl_join", JOIN)).isEmpty();
            assertExact(a, "after the join's writers");
        }
    }

    @Test
    void readCommittedWritersOfACommonRowWaitAndCountItTwice(TestDatabase db) throws Exception {
        ImmediateModeIT.schema(db);
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection a = db.connect(); Connection b = db.connect()) {
            createByKey(engine.streamTables());
            String[][] rounds = {
                    {"INSERT INTO emp VALUES (60, 'x', 7, 10)", "INSERT INTO emp VALUES (61, 'y', 7, 10)"},
                    {"UPDATE emp SET salary = 500 WHERE id = 60", "UPDATE emp SET salary = 500 WHERE id = 61"},
                    {"DELETE FROM emp WHERE id = 60", "DELETE FROM emp WHERE id = 61"}};
            for (String[] round : rounds) {
                a.setAutoCommit(false);
                run(a, round[0]);
                // the same output row (7, 10) and group 7: b waits, then sees a's occurrence
                CompletableFuture<Void> second = async(b, round[1]);
                Thread.sleep(500);
                assertThat(second).as("a writer of the same key waits: " + round[1]).isNotDone();
                a.commit();
                second.get(20, TimeUnit.SECONDS);
                a.setAutoCommit(true);
                assertExact(a, "after " + round[1]);
            }
        }
    }

    @Test
    void repeatableReadWriterThatMissedACommitOnItsKeyFailsToSerialize(TestDatabase db) throws Exception {
        ImmediateModeIT.schema(db);
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection a = db.connect(); Connection b = db.connect()) {
            createByKey(engine.streamTables());
            run(a, "INSERT INTO emp VALUES (70, 'x', 8, 10)");
            // {read committed writer's statement, the stale repeatable-read writer's statement on the same key}
            String[][] cases = {
                    {"DELETE FROM emp WHERE id = 70", "INSERT INTO emp VALUES (71, 'y', 8, 10)"}, // re-inserts deleted content
                    {"INSERT INTO emp VALUES (72, 'z', 8, 10)", "DELETE FROM emp WHERE id = 71"}}; // misses an occurrence
            for (int level : new int[] {Connection.TRANSACTION_REPEATABLE_READ, Connection.TRANSACTION_SERIALIZABLE}) {
                for (String[] step : cases) {
                    b.setAutoCommit(false);
                    b.setTransactionIsolation(level);
                    run(b, "SELECT count(*) FROM emp"); // b's snapshot, before a commits
                    run(a, step[0]);
                    SQLException failure = null;
                    try {
                        run(b, step[1]);
                        b.commit();
                    } catch (SQLException e) {
                        failure = e;
                        b.rollback();
                    }
                    b.setAutoCommit(true);
                    b.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
                    assertThat((Object) failure).as(step[1] + " at isolation " + level + " after " + step[0]).isNotNull();
                    assertThat(failure.getSQLState()).isEqualTo("40001");
                    assertExact(a, "after the failed " + step[1]);
                    run(b, step[1]); // retried: it succeeds
                    assertExact(a, "after the retried " + step[1]);
                }
                // back to the starting rows for the next level
                run(a, "DELETE FROM emp WHERE id BETWEEN 70 AND 72");
                run(a, "INSERT INTO emp VALUES (70, 'x', 8, 10)");
            }
        }
    }

    @Test
    void concurrentSingleRowWritersAtMixedIsolationStayExact(TestDatabase db) throws Exception {
        long seed = Long.getLong("pgtrickle.seed", 20261215L);
        ImmediateModeIT.schema(db);
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            createByKey(engine.streamTables());
            AtomicInteger retries = new AtomicInteger();
            List<CompletableFuture<Void>> writers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                writers.add(CompletableFuture.runAsync(() -> write(db, new Random(seed + thread), thread, retries)));
            }
            CompletableFuture.allOf(writers.toArray(new CompletableFuture[0])).get(120, TimeUnit.SECONDS);
            try (Connection c = db.connect()) {
                assertExact(c, "after four writers at mixed isolation, seed " + seed + " (" + retries + " retries)");
            }
        }
    }

    /** 60 single-row statements on few rows and few (dept, salary) contents; serialization failures and deadlocks retried. */
    private static void write(TestDatabase db, Random random, int thread, AtomicInteger retries) {
        try (Connection c = db.connect()) {
            for (int i = 0; i < 60; i++) {
                String sql = switch (random.nextInt(3)) {
                    case 0 -> "INSERT INTO emp VALUES (" + (1000 + thread * 100 + i) + ", 't', " + (1 + random.nextInt(3)) + ", "
                            + (10 * (1 + random.nextInt(3))) + ")";
                    case 1 -> "UPDATE emp SET salary = " + (10 * (1 + random.nextInt(3))) + ", dept_id = " + (1 + random.nextInt(3))
                            + " WHERE id = (SELECT min(id) FROM emp WHERE id >= " + (1000 + random.nextInt(400)) + ")";
                    default -> "DELETE FROM emp WHERE id = (SELECT min(id) FROM emp WHERE id >= " + (1000 + random.nextInt(400)) + ")";
                };
                int level = random.nextBoolean() ? Connection.TRANSACTION_READ_COMMITTED : Connection.TRANSACTION_REPEATABLE_READ;
                for (int attempt = 0; ; attempt++) {
                    c.setAutoCommit(false);
                    c.setTransactionIsolation(level);
                    try {
                        run(c, sql);
                        c.commit();
                        break;
                    } catch (SQLException e) {
                        c.rollback();
                        boolean retry = "40001".equals(e.getSQLState()) || "40P01".equals(e.getSQLState());
                        if (!retry || attempt > 50) {
                            throw e;
                        }
                        retries.incrementAndGet();
                    } finally {
                        c.setAutoCommit(true);
                    }
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
