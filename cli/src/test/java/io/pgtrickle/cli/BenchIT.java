package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The benchmarks end to end at toy sizes against a real PostgreSQL (18 unless the suite runs
 * on another version): each measures, checks its invariants, writes its CSV and PNG files, and
 * leaves the database as it found it. The figures are not checked: timing is not a test's business.
 */
@ExtendWith(PostgresExtension.class)
class BenchIT {
    private static final Pattern CAPTURE_SUMMARY = Pattern.compile("summary: WAL capture, 2 writers, 5 row\\(s\\) per"
            + " transaction, target 200 rows/s, 3s: (\\d+) rows written at ([0-9.]+) rows/s, ([0-9.]+) changes/s"
            + " buffered, commit-to-buffer latency p50 ([0-9.]+) ms, p95 ([0-9.]+) ms, p99 ([0-9.]+) ms, max ([0-9.]+)"
            + " ms");

    @Test
    void tpchRunsEndToEndAndTheInvariantHolds(TestDatabase db, @TempDir Path out) {
        Cli.Result r = Cli.run("bench", "tpch", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db), "--sf", "0.01",
                "--queries", "1,3,6,12", "--change", "1%,1000rows", "--cycles", "1", "--output", out.toString());

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("server      PostgreSQL " + db.server().majorVersion() + ".", "change 1%:",
                "every refresh succeeded and every invariant check held").containsPattern("(?m)^ q6 +\\| DIFFERENTIAL \\| 1% +\\| +1 \\|.*\\| held$")
                // 1000rows: 63 orders each way, about 16 rows each (their lineitems, the updated orders' customers).
                .containsPattern("change 1000rows: 63 orders inserted, 63 deleted, 63 updated per batch"
                        + " \\((\\d,\\d{3}|\\d{3}) rows written\\)")
                .containsPattern("(?m)^ q6 +\\| DIFFERENTIAL \\| 1000rows \\| +1 \\|.*\\| held$")
                // AUTO: its median, what it chose, and its median over the better of DIFFERENTIAL and FULL.
                .contains("| auto median ms | auto action ", "| auto/best ")
                .containsPattern("(?m)^ q6 +\\| DIFFERENTIAL \\| 1% +\\| +1 \\|.*\\| +[0-9.]+ \\| (DIFFERENTIAL|FULL) +\\|"
                        + " +[0-9.]+x( >1.2)? \\| held$")
                .containsPattern("(?m)^AUTO within 1.2x of the better of DIFFERENTIAL and FULL on [0-4] of 4 queries");
        assertThat(r.err()).contains("loaded lineitem", "invariant held").containsPattern("auto +[0-9.]+ ms \\((DIFFERENTIAL|FULL), ");
        assertThat(out.resolve("tpch-summary.csv")).exists();
        assertThat(out.resolve("tpch-cycles.csv")).content().startsWith("query,mode,change,cycle,rows_written,")
                .contains("q12,").containsPattern("(?m)^q6,DIFFERENTIAL,1000rows,1,\\d{3,4},")
                .contains(",error,auto_ms,auto_action,auto_over_best,auto_over_limit\n")
                .containsPattern("(?m)^q6,DIFFERENTIAL,1%,1,.*,\\d+\\.\\d{3},(DIFFERENTIAL|FULL),\\d+\\.\\d{3},(true|false)$");
        assertThat(out.resolve("tpch-summary.csv")).content().startsWith("query,mode,change,change_percent,cycles,")
                .containsPattern("(?m)^q6,DIFFERENTIAL,1%,1.0,1,").containsPattern("(?m)^q6,DIFFERENTIAL,1000rows,,1,")
                .contains(",full_only_reason,auto_median_ms,auto_p95_ms,auto_actions,auto_over_best,auto_over_limit\n")
                .containsPattern("(?m)^q6,DIFFERENTIAL,1000rows,.*,\\d+\\.\\d{3},\\d+\\.\\d{3},(DIFFERENTIAL|FULL),"
                        + "\\d+\\.\\d{3},(true|false)$");
        assertPng(out.resolve("tpch-1pct.png"));
        assertPng(out.resolve("tpch-1000rows.png"));
        assertThat(db.value("SELECT count(*) FROM pg_class WHERE relname IN ('lineitem', 'orders')"
                + " OR relname LIKE 'tpch\\_%'")).isEqualTo(0L);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(0L);
    }

    @Test
    void tpchNoAutoSkipsAutoAndARunRemovesTheAutoTablesAnEarlierRunLeft(TestDatabase db, @TempDir Path out) {
        Cli.Result kept = Cli.run("bench", "tpch", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db), "--sf", "0.01",
                "--queries", "6", "--change", "1%", "--cycles", "1", "--keep", "--output", out.toString());
        assertThat(kept.exitCode()).as(kept.toString()).isZero();
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables WHERE pgt_name LIKE 'tpch\\_%\\_auto'"))
                .isEqualTo(1L);

        Cli.Result r = Cli.run("bench", "tpch", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db), "--sf", "0.01",
                "--queries", "6", "--change", "1%", "--cycles", "1", "--no-auto", "--output", out.toString());

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.err()).contains("removing the TPC-H tables of an earlier run").doesNotContain("(and AUTO)", "  auto ");
        assertThat(r.out()).contains("--no-auto").doesNotContain("auto median ms", "AUTO within")
                .containsPattern("(?m)^ q6 +\\| DIFFERENTIAL \\| 1% +\\| +1 \\|.*\\| held$");
        // The AUTO columns stay, empty: the files keep one layout whatever the options.
        assertThat(out.resolve("tpch-cycles.csv")).content().containsPattern("(?m)^q6,DIFFERENTIAL,1%,1,.*,true,,,,,$");
        assertThat(db.value("SELECT count(*) FROM pg_class WHERE relname IN ('lineitem', 'orders')"
                + " OR relname LIKE 'tpch\\_%'")).isEqualTo(0L);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(0L);
        // The --keep run made the slot and kept it for the sources it left; the second run found it and,
        // not having made it, leaves it alone. Remove it so that the other tests start without one.
        db.value("SELECT count(pg_drop_replication_slot(slot_name)) FROM pg_replication_slots WHERE slot_name = ?",
                slot(db));
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
    void outboxTimesTwinRefreshesAndEachOutboxEntryHoldsTheWholeDelta(TestDatabase db, @TempDir Path out) {
        Cli.Result r = Cli.run("bench", "outbox", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db), "--source-rows",
                "2000", "--changed-rows", "50", "--rounds", "2", "--output", out.toString());

        assertThat(r.exitCode()).as(r.toString()).isZero();
        // 50 groups change per round: 50 updated aggregate rows; a projection row is keyed by its
        // content, so each changed row is a delete and an insert.
        assertThat(r.out()).containsPattern("(?m)^ aggregate +\\| +50 +\\|")
                .containsPattern("(?m)^ projection +\\| +100 +\\|");
        assertThat(out.resolve("outbox-overhead.csv")).exists();
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(0L);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_outbox_config")).isEqualTo(0L);
    }

    @Test
    void recursiveRefreshesEveryChangeKindThreeWaysAndTheInvariantHolds(TestDatabase db, @TempDir Path out) {
        Cli.Result r = Cli.run("bench", "recursive", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db), "--nodes",
                "2000", "--chain-depth", "50", "--rounds", "1", "--output", out.toString());

        assertThat(r.exitCode()).as(r.toString()).isZero();
        // A rename rewrites the paths of its subtree: as many rows inserted as deleted.
        assertThat(r.out()).containsPattern("(?m)^ rename leaf +\\| +2000 \\| +1 \\| +[0-9.]+ \\| +1 \\| +1 \\|")
                .containsPattern("(?m)^ rename subtree ~F\\^3 +\\| +\\d+ \\| +125 \\| +[0-9.]+ \\| +125 \\| +125 \\|")
                .containsPattern("(?m)^ rename subtree ~F\\^5 +\\| ")
                .containsPattern("(?m)^ insert leaf +\\| +2051 \\| +1 \\| +[0-9.]+ \\| +1 \\| +0 \\|")
                .containsPattern("(?m)^ delete leaf +\\| +2051 \\| +1 \\| +[0-9.]+ \\| +0 \\| +1 \\|")
                .containsPattern("(?m)^ move subtree ~F\\^4 +\\| ")
                .containsPattern("(?m)^ rename chain top +\\| +2001 \\| +50 \\| +[0-9.]+ \\| +50 \\| +50 \\|")
                .containsPattern("(?m)^ rename chain end +\\| +2046 \\| +5 \\| +[0-9.]+ \\| +5 \\| +5 \\| .*x$")
                .contains("every refresh held the invariant", "machine     ").doesNotContain("note:");
        assertThat(out.resolve("recursive.csv")).content().startsWith("change,node,subtree,path_bytes,rows_inserted_median,")
                .contains("\nmove subtree ~F^4,", "\nrename chain top,2001,50,10200,");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(0L);
        assertThat(db.value("SELECT to_regclass('public.recursive_bench_departments') IS NULL"
                + " AND to_regclass('public.recursive_bench_mv') IS NULL")).isEqualTo(true);
    }

    @Test
    void immediateTimesTheWriterFourWaysAndEveryStreamTableEqualsItsQuery(TestDatabase db, @TempDir Path out) {
        Cli.Result r = Cli.run("bench", "immediate", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db), "--scale",
                "0.01", "--statements", "30", "--warmup", "5", "--seed", "3", "--capture", "trigger", "--output",
                out.toString());

        assertThat(r.exitCode()).as(r.toString()).isZero();
        String figures = " +\\| +30 \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+x \\|"
                + " +[0-9.]+x \\| +-?[0-9.]+ \\| ";
        assertThat(r.out()).contains("machine     ", " CPUs (nproc)",
                "command     bin/pgtrickle bench immediate --scale 0.01 --statements 30 --warmup 5 --seed 3 --output "
                        + out + " --capture trigger --jdbc-url " + db.jdbcUrl(),
                "server      PostgreSQL " + db.server().majorVersion() + ".", "capture     TRIGGER",
                "1,000 accounts (scale 0.01), 30 timed statements per setup after 5 warm-up, seed 3",
                "every stream table equals its query after the measurement")
                .containsPattern("(?m)^no stream table, p50 of each half: [0-9.]+ ms before the stream tables,"
                        + " [0-9.]+ ms after them")
                .containsPattern("(?m)^ no stream table +" + figures + "-$")
                .containsPattern("(?m)^ DIFFERENTIAL join \\(trigger capture only\\)" + figures + "equal after a refresh$")
                .containsPattern("(?m)^ IMMEDIATE join +" + figures + "equal$")
                .containsPattern("(?m)^ IMMEDIATE aggregate +" + figures + "equal$")
                .doesNotContain("DIFFERS");
        assertThat(r.err()).contains("loading 1,000 accounts, 1 branches and 10 tellers (scale 0.01)",
                "no stream table      15 statements after 5 warm-up (first half)",
                "no stream table      15 statements after 5 warm-up (second half)",
                "immediate_bench_join equals its query", "immediate_bench_aggregate equals its query");
        assertThat(out.resolve("immediate.csv")).content().startsWith("setup,query,statements,p50_ms,p90_ms,p99_ms,")
                .containsPattern("(?m)^no stream table,,30,")
                .containsPattern("(?m)^IMMEDIATE join,\"SELECT a.aid, b.bid, a.abalance, b.bbalance FROM pgbench_accounts"
                        + " a JOIN pgbench_branches b USING \\(bid\\)\",30,.*,0$")
                .containsPattern("(?m)^IMMEDIATE aggregate,.*,0$");
        assertThat(out.resolve("immediate.md")).content().contains("| setup | statements | p50 ms |",
                "command     bin/pgtrickle bench immediate --scale 0.01").containsPattern("(?m)^\\| IMMEDIATE join \\| 30 \\| .* \\| equal \\|$");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(0L);
        assertThat(db.value("SELECT count(*) FROM pg_class WHERE relname LIKE 'pgbench\\_%'")).isEqualTo(0L);
    }

    @Test
    void immediateLeavesPgbenchTablesItDidNotMakeAlone(TestDatabase db, @TempDir Path out) {
        db.execute("CREATE TABLE pgbench_accounts (aid int PRIMARY KEY, bid int, abalance int, filler char(84))",
                "INSERT INTO pgbench_accounts VALUES (1, 1, 7, '')");
        try {
            Cli.Result r = Cli.run("bench", "immediate", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db),
                    "--scale", "0.01", "--statements", "5", "--capture", "trigger", "--output", out.toString());

            assertThat(r.exitCode()).as(r.toString()).isEqualTo(1);
            assertThat(r.err()).contains("public.pgbench_accounts exists and was not made by this benchmark");
            assertThat(db.value("SELECT abalance FROM pgbench_accounts WHERE aid = 1")).isEqualTo(7);
        } finally {
            db.execute("DROP TABLE pgbench_accounts");
        }
    }

    @Test
    void relayDrainsToEveryTargetBesideItsPlainClientAndEachChangeArrivesOnce(TestDatabase db, @TempDir Path out) {
        Cli.Result r = Cli.run("bench", "relay", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db), "--changes",
                "3000", "--rate", "400", "--duration", "2s", "--rows-per-transaction", "20", "--batch-size", "200",
                "--output", out.toString());

        assertThat(r.exitCode()).as(r.toString()).isZero();
        // Per target: relay and direct rates, then 0 missing and 0 repeated across the three phases.
        for (String target : List.of("kafka", "nats", "redis")) {
            assertThat(r.out()).containsPattern("(?m)^ " + target + " +\\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\|"
                    + " +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +0 \\| +0$");
        }
        assertThat(r.out()).doesNotContain("ERROR");
        assertThat(out.resolve("relay.csv")).content().contains("kafka", "nats", "redis");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(0L);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_consumer_groups")).isEqualTo(0L);
    }

    @Test
    void loadMeasuresLagTheStreamTablesCatchUpAndTheAuditAccountsForEveryTransaction(TestDatabase db,
                                                                                     @TempDir Path out) {
        Cli.Result r = Cli.run("bench", "load", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db), "--rates", "150",
                "--duration", "2s", "--warmup", "0s", "--writers", "2", "--batch", "3", "--audit", "--seed", "11",
                "--output", out.toString());

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).containsPattern("(?m)^ +150 \\| +[0-9.]+ \\| load_join_aggregate +\\| .*\\| +0 \\| .*held")
                .contains("--audit --seed 11")
                .containsPattern("(?m)^audit: [0-9,]+ writer transactions \\([0-9,]+ rows\\): 0 missing, 0 doubled$")
                .contains("  buffered under another xid: 0", "  cleaned before use:         0")
                .doesNotContain("unexplained");
        Matcher audited = Pattern.compile("audit: ([0-9,]+) writer transactions \\(([0-9,]+) rows\\)").matcher(r.out());
        assertThat(audited.find()).isTrue();
        long transactions = Long.parseLong(audited.group(1).replace(",", ""));
        assertThat(transactions).isPositive();
        assertThat(Long.parseLong(audited.group(2).replace(",", ""))).isEqualTo(3 * transactions);
        assertThat(db.value("SELECT to_regclass('public.load_audit_buffer') IS NULL")).isEqualTo(true);
        assertThat(out.resolve("load-summary.csv")).content().contains("load_aggregate", "load_join");
        assertPng(out.resolve("load-lag.png"));
        assertThat(db.value("SELECT to_regclass('public.load_orders') IS NULL")).isEqualTo(true);
    }

    @Test
    void captureMeasuresRatesAndLatenciesOfMultiRowTransactions(TestDatabase db) {
        String slot = slot(db);
        Cli.Result r = Cli.run("bench", "capture", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot, "--duration", "3s",
                "--warmup", "0s", "--rate", "200", "--writers", "2", "--batch", "5");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("machine     ", " CPUs (nproc)", "Java ",
                "command     bin/pgtrickle bench capture --rate 200 --writers 2 --batch 5 --duration 3s --warmup 0s"
                        + " --capture wal --jdbc-url " + db.jdbcUrl(),
                "server      PostgreSQL " + db.server().majorVersion() + ".", "wal_level logical")
                .containsPattern("(?m)^ write rate +\\| +[0-9.]+ \\| rows/s \\(target 200\\)$")
                .containsPattern("(?m)^ ingest rate +\\| +[0-9.]+ \\| changes/s into the buffer$")
                .containsPattern("(?m)^ latency p50 +\\| +[0-9.]+ \\| ms, commit to buffer$")
                .containsPattern("(?m)^ latency p99 +\\| +[0-9.]+ \\| ms$");
        assertThat(r.err()).contains("streaming from slot", "load: 3s measured; 2 writers, 5 row(s) per transaction,"
                + " target 200 rows/s, 600 rows planned", "rows buffered").containsPattern("written +\\d+ +buffered +\\d+");

        Matcher m = CAPTURE_SUMMARY.matcher(r.out());
        assertThat(m.find()).as(r.out()).isTrue();
        long rows = Long.parseLong(m.group(1));
        double p50 = Double.parseDouble(m.group(4));
        double p95 = Double.parseDouble(m.group(5));
        double p99 = Double.parseDouble(m.group(6));
        double max = Double.parseDouble(m.group(7));
        assertThat(rows).isBetween(5L, 600L);
        assertThat(rows % 5).as("whole transactions of 5 rows").isZero();
        assertThat(Double.parseDouble(m.group(2))).isPositive().isLessThanOrEqualTo(210.0);
        assertThat(Double.parseDouble(m.group(3))).isPositive();
        assertThat(p50).isPositive().isLessThanOrEqualTo(p95);
        assertThat(p95).isLessThanOrEqualTo(p99);
        assertThat(p99).isLessThanOrEqualTo(max);

        // The database outlives the run: the benchmark's table, stream table and slot are gone.
        assertThat(db.value("SELECT to_regclass('public.bench_events') IS NULL"
                + " AND to_regclass('public.bench_events_st') IS NULL")).isEqualTo(true);
        assertThat(db.value("SELECT count(*) FROM pg_replication_slots WHERE slot_name = ?", slot)).isEqualTo(0L);
        assertThat(r.err()).contains("dropped replication slot " + slot + ", which this run created");
    }

    @Test
    void parallelTimesOnePassPerLevelAndEveryStreamTableEqualsItsQuery(TestDatabase db, @TempDir Path out) {
        Cli.Result r = Cli.run("bench", "parallel", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db),
                "--stream-tables", "6", "--dependants", "2", "--rows", "2000", "--changed-rows", "200", "--concurrency",
                "1,2", "--rounds", "1", "--output", out.toString());

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("machine     ", " CPUs (nproc)", "date        ",
                        "command     bin/pgtrickle bench parallel --stream-tables 6 --dependants 2 --rows 2000"
                                + " --changed-rows 200 --concurrency 1,2 --sources shared --rounds 1 --output " + out
                                + " --capture wal --jdbc-url " + db.jdbcUrl(),
                        "server      PostgreSQL " + db.server().majorVersion() + ".", "capture     WAL", "load avg    ",
                        "every stream table (8) equals a fresh run of its query after the last round (multiset)")
                .containsPattern("one scheduler pass refreshing 8 stream tables \\(6 independent, 2 dependants\\),"
                        + " 2,000 source rows, \\d+ rows updated per pass; 1 measured passes per level after a warm-up;"
                        + " speed-up over concurrency 1 \\(medians\\); \\d+ CPUs")
                .containsPattern("(?m)^ +1 \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +1\\.00x \\| +0$")
                .containsPattern("(?m)^ +2 \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+x \\| +\\d+$")
                .doesNotContain("error:");
        assertThat(r.err()).contains("warm-up: ", "round 1: ", "checking 8 stream tables");
        assertThat(out.resolve("parallel.csv")).content().startsWith("concurrency,refreshes_per_tick,ticks,median_ms,"
                + "p95_ms,max_ms,refreshes_per_s,speedup,not_refreshed\n").containsPattern("(?m)^1,8,1,[0-9.]+,[0-9.]+,"
                + "[0-9.]+,[0-9.]+,1\\.000,0$").containsPattern("(?m)^2,8,1,");
        assertThat(out.resolve("parallel.md")).content().contains("# bench parallel", "| concurrency | median ms |",
                "command     bin/pgtrickle bench parallel", "every stream table (8) equals");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(0L);
        assertThat(db.value("SELECT to_regclass('public.par_source') IS NULL")).isEqualTo(true);
    }

    @Test
    void parallelWithOwnSourcesRefreshesEveryStreamTableInEveryPass(TestDatabase db, @TempDir Path out) {
        Cli.Result r = Cli.run("bench", "parallel", "--jdbc-url", db.jdbcUrl(), "--slot-name", slot(db),
                "--stream-tables", "4", "--dependants", "1", "--rows", "2000", "--changed-rows", "100", "--concurrency",
                "2,1", "--sources", "own", "--rounds", "2", "--capture", "trigger", "--output", out.toString());

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("capture     TRIGGER", "5 stream tables (4 independent, 1 dependants), 2,000 source"
                        + " rows in 4 tables", "speed-up over concurrency 1",
                        "every stream table (5) equals a fresh run of its query after the last round (multiset)")
                .containsPattern("(?m)^ +2 \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+x \\| +0$")
                .containsPattern("(?m)^ +1 \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +[0-9.]+ \\| +1\\.00x \\| +0$")
                .doesNotContain("note:", "error:");
        assertThat(out.resolve("parallel.md")).content().contains("FROM par_source_i GROUP BY grp");
        assertThat(db.value("SELECT count(*) FROM pg_class WHERE relname LIKE 'par\\_source%'")).isEqualTo(0L);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(0L);
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
