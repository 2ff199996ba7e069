package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The three benchmarks end to end at toy sizes against a real PostgreSQL 18: each measures,
 * checks its invariants, writes its CSV and PNG files, and leaves the database as it found it.
 * The figures are not checked: timing is not a test's business.
 */
@ExtendWith(PostgresExtension.class)
class BenchIT {
    @Test
    void tpchRunsEndToEndAndTheInvariantHolds(TestDatabase db, @TempDir Path out) {
        Cli.Result r = Cli.run("bench", "tpch", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db), "--sf", "0.01",
                "--queries", "1,3,6,12", "--change", "1%", "--cycles", "1", "--output", out.toString());

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("server      PostgreSQL 18", "change 1%:", "every refresh succeeded and every"
                + " invariant check held").containsPattern("(?m)^ q6 +\\| DIFFERENTIAL \\| 1% +\\| +1 \\|.*\\| held$");
        assertThat(r.err()).contains("loaded lineitem", "invariant held");
        assertThat(out.resolve("tpch-summary.csv")).exists();
        assertThat(out.resolve("tpch-cycles.csv")).content().startsWith("query,mode,change,cycle,").contains("q12,");
        assertPng(out.resolve("tpch-1pct.png"));
        assertThat(db.value("SELECT count(*) FROM pg_class WHERE relname IN ('lineitem', 'orders')"
                + " OR relname LIKE 'tpch\\_%'")).isEqualTo(0L);
    }

    @Test
    void idleMeasuresRefreshesAndTicks(TestDatabase db, @TempDir Path out) {
        Cli.Result r = Cli.run("bench", "idle", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db), "--sf", "0.01",
                "--queries", "6", "--repeats", "2", "--stream-tables", "3", "--output", out.toString());

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("scheduler tick with 3 idle stream tables", "none due", "all due, nothing changed",
                "every refresh succeeded").containsPattern("(?m)^ q6 +\\| DIFFERENTIAL .*\\| +0$");
        assertThat(out.resolve("idle-refresh.csv")).exists();
        assertThat(out.resolve("idle-tick.csv")).exists();
        assertPng(out.resolve("idle-refresh.png"));
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(0L);
    }

    @Test
    void loadMeasuresLagAndTheStreamTablesCatchUp(TestDatabase db, @TempDir Path out) {
        Cli.Result r = Cli.run("bench", "load", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db), "--rates", "100",
                "--duration", "2s", "--warmup", "0s", "--writers", "2", "--output", out.toString());

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).containsPattern("(?m)^ +100 \\| +[0-9.]+ \\| load_join_aggregate +\\| .*\\| +0 \\| .*held");
        assertThat(out.resolve("load-summary.csv")).content().contains("load_aggregate", "load_join");
        assertPng(out.resolve("load-lag.png"));
        assertThat(db.value("SELECT to_regclass('public.load_orders') IS NULL")).isEqualTo(true);
    }

    private static String slot(TestDatabase db) {
        return "pgtrickle_" + db.name();
    }

    private static void assertPng(Path png) {
        try {
            assertThat(Files.readAllBytes(png)).startsWith(0x89, 'P', 'N', 'G');
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }
}
