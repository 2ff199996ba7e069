package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A short {@code bench-capture} run against a real PostgreSQL 18: it measures, prints plausible
 * figures, and leaves the database as it found it. The figures themselves are not checked: this
 * machine's load is not the benchmark's business.
 */
@ExtendWith(PostgresExtension.class)
class BenchCaptureIT {
    private static final Pattern SUMMARY = Pattern.compile("summary: WAL capture, 2 writers, target 200 rows/s, 3s:"
            + " (\\d+) rows written at ([0-9.]+) rows/s, ([0-9.]+) changes/s buffered, commit-to-buffer latency"
            + " p50 ([0-9.]+) ms, p95 ([0-9.]+) ms, p99 ([0-9.]+) ms, max ([0-9.]+) ms");

    @Test
    void aShortWalRunPrintsRatesAndLatencies(TestDatabase db) {
        String slot = "pgtrickle_" + db.name();
        Cli.Result r = Cli.run("bench-capture", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot, "--duration", "3s",
                "--warmup", "0s", "--rate", "200", "--writers", "2");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("machine     ", " CPUs (nproc)", "Java ",
                "command     bin/pgtrickle bench-capture --mode wal --rate 200 --writers 2 --duration 3s --warmup 0s"
                        + " --jdbc-url " + db.jdbcUrl(),
                "server      PostgreSQL 18", "wal_level logical")
                .containsPattern("(?m)^ write rate +\\| +[0-9.]+ \\| rows/s \\(target 200\\)$")
                .containsPattern("(?m)^ ingest rate +\\| +[0-9.]+ \\| changes/s into the buffer$")
                .containsPattern("(?m)^ latency p50 +\\| +[0-9.]+ \\| ms, commit to buffer$")
                .containsPattern("(?m)^ latency p99 +\\| +[0-9.]+ \\| ms$");
        assertThat(r.err()).contains("streaming after", "load: 3s measured; 2 writers, target 200 rows/s, 600 rows"
                + " planned", "rows buffered").containsPattern("written +\\d+ +buffered +\\d+");

        Matcher m = SUMMARY.matcher(r.out());
        assertThat(m.find()).as(r.out()).isTrue();
        long rows = Long.parseLong(m.group(1));
        double writeRate = Double.parseDouble(m.group(2));
        double ingestRate = Double.parseDouble(m.group(3));
        double p50 = Double.parseDouble(m.group(4));
        double p95 = Double.parseDouble(m.group(5));
        double p99 = Double.parseDouble(m.group(6));
        double max = Double.parseDouble(m.group(7));
        assertThat(rows).isBetween(1L, 600L);
        assertThat(writeRate).isPositive().isLessThanOrEqualTo(210.0);
        assertThat(ingestRate).isPositive();
        assertThat(p50).isPositive().isLessThanOrEqualTo(p95);
        assertThat(p95).isLessThanOrEqualTo(p99);
        assertThat(p99).isLessThanOrEqualTo(max);

        // The database outlives the run: the benchmark's table, stream table and slot are gone.
        assertThat(db.value("SELECT to_regclass('public.bench_events') IS NULL"
                + " AND to_regclass('public.bench_events_st') IS NULL")).isEqualTo(true);
        assertThat(db.value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = ?", slot)).isEqualTo(0L);
        assertThat(r.err()).contains("dropped replication slot " + slot + ", which this run created");
    }
}
