package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * GROUPING SETS, ROLLUP and CUBE with algebraic aggregates keep one aggregate state per grouping
 * set, so a change updates each set's groups from state; sets with equal keys (CUBE's a = 1 and
 * b = 1) stay apart, a repeated set falls back to recomputing the touched groups, and FULL and
 * differential refreshes follow each other.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class GroupingSetsStateIT {
    private static final String CUBE = "SELECT a, b, count(*) AS n, sum(v) AS total, max(v) AS top, GROUPING(a, b) AS g"
            + " FROM gs GROUP BY CUBE (a, b)";
    private static final String REPEATED = "SELECT a, count(*) AS n FROM gs GROUP BY GROUPING SETS ((a), (), ())";

    private final TestDatabase db;

    GroupingSetsStateIT(TestDatabase db) {
        this.db = db;
    }

    @Test
    void eachGroupingSetKeepsItsOwnStateAndTheResultStaysExact() {
        db.execute("DROP TABLE IF EXISTS gs CASCADE", "CREATE TABLE gs (id int PRIMARY KEY, a int, b int, v int)",
                "INSERT INTO gs SELECT g, g % 3, g % 2, g FROM generate_series(1, 30) g");
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("gs_cube", CUBE, "1h", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("gs_repeated", REPEATED, "1h", "DIFFERENTIAL"));
            assertThat(api.explain(QualifiedName.parse("gs_cube")).strategy())
                    .contains("UNION ALL of 4 GROUP BYs, each with its own algebraic aggregate state");
            assertThat(api.explain(QualifiedName.parse("gs_repeated")).strategy()).doesNotContain("algebraic aggregate state");
            long relid = ((Number) db.value("SELECT 'gs_cube'::regclass::oid::bigint")).longValue();
            assertThat(db.value("SELECT count(*) FROM pg_tables WHERE schemaname = 'pgtrickle_state' AND tablename LIKE ?",
                    "agg\\_" + relid + "\\_%")).isEqualTo(4L);
            check();

            Random random = new Random(20261211L);
            for (int step = 0; step < 30; step++) {
                int id = 1 + random.nextInt(40);
                String change = switch (random.nextInt(5)) {
                    case 0 -> "INSERT INTO gs VALUES (" + id + ", " + random.nextInt(4) + ", " + random.nextInt(3) + ", "
                            + random.nextInt(100) + ") ON CONFLICT (id) DO NOTHING";
                    case 1 -> "DELETE FROM gs WHERE id = " + id;
                    case 2 -> "UPDATE gs SET v = v + 50 WHERE id = " + id; // a new maximum
                    case 3 -> "DELETE FROM gs WHERE v = (SELECT max(v) FROM gs)"; // the maximum leaves: rescan
                    default -> "UPDATE gs SET a = " + random.nextInt(4) + ", b = NULL WHERE id = " + id;
                };
                db.execute(change);
                assertThat(api.refresh("gs_cube").action()).as(change).isEqualTo("DIFFERENTIAL");
                assertThat(api.refresh("gs_repeated").action()).as(change).isEqualTo("DIFFERENTIAL");
                check();
                if (step == 15) {
                    // a TRUNCATE in the window refreshes FULL, which rebuilds every set's state; the
                    // differential refreshes after it continue from that state
                    db.execute("TRUNCATE gs", "INSERT INTO gs SELECT g, g % 4, g % 3, g * 2 FROM generate_series(1, 25) g");
                    assertThat(api.refresh("gs_cube").action()).isEqualTo("FULL");
                    api.refresh("gs_repeated");
                    check();
                }
            }
        }
    }

    private void check() {
        assertThat(db.multisetDifference("SELECT a, b, n, total, top, g FROM gs_cube", CUBE)).as("cube").isEmpty();
        assertThat(db.multisetDifference("SELECT a, n FROM gs_repeated", REPEATED)).as("repeated").isEmpty();
        assertThat(db.value("SELECT count(*) FROM gs_cube")).isEqualTo(db.value("SELECT count(*) FROM (" + CUBE + ") q"));
    }
}
