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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two writers whose deltas meet in a join: under READ COMMITTED the second waits for the first and
 * sees its rows (no lost join row); under REPEATABLE READ and SERIALIZABLE it fails with a
 * serialization error rather than compute a delta against a snapshot that misses the first.
 */
@ExtendWith(PostgresExtension.class)
class ImmediateConcurrencyIT {
    private static final String JOIN = "SELECT e.id, e.name, d.dname FROM emp e JOIN dept d ON d.id = e.dept_id";
    private static final String AGG = "SELECT d.dname, count(*) AS n FROM emp e JOIN dept d ON d.id = e.dept_id GROUP BY d.dname";

    private static void assertExact(Connection c, String when) throws SQLException {
        List<String> diff = new ArrayList<>(differences(c, "cc_join", JOIN));
        diff.addAll(differences(c, "cc_agg", AGG));
        assertThat(diff).as(when).isEmpty();
    }

    private static void create(TestDatabase db, StreamTables api) {
        EngineFixture.dropAllStreamTables(api);
        api.create(StreamTableSpec.parse("cc_join", JOIN, "1m", "IMMEDIATE"));
        api.create(StreamTableSpec.parse("cc_agg", AGG, "1m", "IMMEDIATE"));
    }

    @Test
    void readCommittedWritersDoNotLoseAJoinRow(TestDatabase db) throws Exception {
        ImmediateModeIT.schema(db);
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection a = db.connect(); Connection b = db.connect()) {
            create(db, engine.streamTables());
            for (int round = 0; round < 3; round++) {
                int dept = 100 + round;
                a.setAutoCommit(false);
                b.setAutoCommit(false);
                run(a, "INSERT INTO emp VALUES (" + (200 + round) + ", 'new', " + dept + ", 1)");
                // b's trigger waits for a's commit; by then its statements see a's emp row
                CompletableFuture<Void> second = CompletableFuture.runAsync(() -> {
                    try {
                        run(b, "INSERT INTO dept VALUES (" + dept + ", 'd" + dept + "')");
                        b.commit();
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                Thread.sleep(300);
                assertThat(second).as("the second writer waits for the first").isNotDone();
                a.commit();
                second.get(20, TimeUnit.SECONDS);
                a.setAutoCommit(true);
                b.setAutoCommit(true);
                assertExact(a, "round " + round);
                assertThat(db.value("SELECT count(*) FROM cc_join WHERE dname = 'd" + dept + "'")).isEqualTo(1L);
            }
        }
    }

    @Test
    void repeatableReadWriterThatMissedAnotherFailsToSerialize(TestDatabase db) throws Exception {
        ImmediateModeIT.schema(db);
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection a = db.connect(); Connection b = db.connect()) {
            create(db, engine.streamTables());
            for (int level : new int[] {Connection.TRANSACTION_REPEATABLE_READ, Connection.TRANSACTION_SERIALIZABLE}) {
                int dept = level == Connection.TRANSACTION_SERIALIZABLE ? 301 : 300;
                b.setAutoCommit(false);
                b.setTransactionIsolation(level);
                run(b, "SELECT count(*) FROM emp"); // b's snapshot, before a commits
                run(a, "INSERT INTO emp VALUES (" + (400 + dept) + ", 'late', " + dept + ", 1)");
                SQLException failure = null;
                try {
                    run(b, "INSERT INTO dept VALUES (" + dept + ", 'd" + dept + "')");
                    b.commit();
                } catch (SQLException e) {
                    failure = e;
                    b.rollback();
                }
                b.setAutoCommit(true);
                b.setTransactionIsolation(Connection.TRANSACTION_READ_COMMITTED);
                assertThat(failure != null).as("isolation " + level + " fails").isTrue();
                assertThat(failure.getSQLState()).isEqualTo("40001");
                assertExact(a, "after the failed writer, isolation " + level);
                // retried, it succeeds and the join row appears
                run(b, "INSERT INTO dept VALUES (" + dept + ", 'd" + dept + "')");
                assertExact(a, "after the retry, isolation " + level);
            }
        }
    }

    @Test
    void manyConcurrentWritersStayExact(TestDatabase db) throws Exception {
        ImmediateModeIT.schema(db);
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            create(db, engine.streamTables());
            List<CompletableFuture<Void>> writers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                int thread = t;
                writers.add(CompletableFuture.runAsync(() -> {
                    try (Connection c = db.connect()) {
                        for (int i = 0; i < 25; i++) {
                            int id = 1000 + thread * 100 + i;
                            run(c, i % 5 == 0 ? "INSERT INTO dept VALUES (" + id + ", 'd" + id + "')"
                                    : "INSERT INTO emp VALUES (" + id + ", 'e', " + (1000 + thread * 100 + (i / 5) * 5) + ", 1)");
                            if (i % 7 == 0) {
                                run(c, "UPDATE emp SET dept_id = 1 WHERE id = " + (id - 1));
                            }
                        }
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            CompletableFuture.allOf(writers.toArray(new CompletableFuture[0])).get(60, TimeUnit.SECONDS);
            try (Connection c = db.connect()) {
                assertExact(c, "after four concurrent writers");
            }
        }
    }
}
