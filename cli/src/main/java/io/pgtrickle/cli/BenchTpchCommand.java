package io.pgtrickle.cli;

import io.pgtrickle.bench.Machine;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.bench.tpch.ChangeSize;
import io.pgtrickle.bench.tpch.QuerySetup;
import io.pgtrickle.bench.tpch.TpchBench;
import io.pgtrickle.bench.tpch.TpchOptions;
import io.pgtrickle.bench.tpch.TpchQueries;
import io.pgtrickle.bench.tpch.TpchReport;
import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.DurationText;
import io.pgtrickle.core.PgTrickleEngine;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code pgtrickle bench tpch}: DIFFERENTIAL against FULL refresh, AUTO and materialized views on TPC-H. */
@Command(name = "tpch", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Differential against full refresh on TPC-H. Loads the eight TPC-H tables (io.trino.tpch generator,"
                    + " COPY, primary keys and foreign-key indexes) and, for each query, creates a DIFFERENTIAL stream"
                    + " table, a FULL stream table, a materialized view and an AUTO stream table of the same text"
                    + " (the standard text without its ORDER BY/LIMIT, q15's view as a CTE, q18's unnamed column"
                    + " named).",
            "Then, for each change size and cycle: one change batch in one transaction (RF1: new orders with their"
                    + " lineitems; RF2: as many orders deleted with their lineitems; as many more orders updated with"
                    + " their lineitems and customers), a wait until change capture has buffered it (not timed),"
                    + " and per query the DIFFERENTIAL refresh, the FULL refresh, REFRESH MATERIALIZED VIEW and the"
                    + " AUTO refresh, timed one after the other (wall clock around the call); what AUTO chose"
                    + " (DIFFERENTIAL or FULL) is recorded. After every cycle every stream table is checked against"
                    + " a fresh run of the query (multiset equality, not timed).",
            "Prints per change size a table with median and p95 per refresh kind, the ratios full/diff and"
                    + " mv/diff (how many times faster DIFFERENTIAL was; below 1 means slower), AUTO's median, its"
                    + " choices and auto/best: its median over the better of the DIFFERENTIAL and FULL medians"
                    + " (marked >1.2 above 1.2, the target), writes"
                    + " tpch-summary.csv, tpch-cycles.csv and tpch-<change>.png into --output. A query the engine"
                    + " refuses to maintain differentially runs FULL only, with the reason; a refresh that fails"
                    + " or times out is recorded and the run goes on.",
            ""},
        footer = {"", "Examples:",
            "  pgtrickle bench tpch --sf 0.01 --queries 1,3,6 --change 1%% --cycles 2",
            "  pgtrickle bench tpch --sf 0.1 --queries all --change 0.1%%,1%%,10%%",
            "  pgtrickle bench tpch --sf 1 --queries 1,3,5,6,12 --change 1000rows,0.1%%",
            "  pgtrickle bench tpch --sf 1 --queries all --change 1000rows --no-auto",
            "",
            "Exit code 0 when every invariant check held; 1 when one failed (the run still completes and prints"
                    + " the figures; failures are listed at the end)."})
final class BenchTpchCommand implements Callable<Integer> {
    @Option(names = "--sf", paramLabel = "SF", defaultValue = "0.01",
            description = "TPC-H scale factor, 0.01 to 100: 1 = 6 million lineitems, 0.01 (the smallest the generator"
                    + " keeps consistent) = 60 thousand. Default: ${DEFAULT-VALUE}.")
    double scale;

    @Option(names = "--queries", paramLabel = "LIST", defaultValue = "all",
            description = "Queries to run: all, or numbers and ranges such as 1,3,6 or 1-5,14. Default: ${DEFAULT-VALUE}.")
    String queries;

    @Option(names = "--change", paramLabel = "SIZES", defaultValue = "0.1%,1%,10%",
            description = {"Change batch sizes: percentages of the orders (0.1%% is the size of TPC-H's refresh"
                    + " functions): each batch inserts, deletes and updates that many orders with their lineitems;"
                    + " or rows written, such as 1000rows: as many orders each way as write that many rows on average"
                    + " (16 per order: 1 inserted order and its 4 lineitems, 1 deleted with its lineitems, 1 updated"
                    + " with its lineitems and customer; 1000rows = 63 orders each way). The exact rows each batch"
                    + " wrote are printed and in tpch-cycles.csv (rows_written).",
                "Default: ${DEFAULT-VALUE}."})
    String changes;

    @Option(names = "--cycles", paramLabel = "N", defaultValue = "3",
            description = "Change batches per size; each one is followed by the refreshes of every query."
                    + " Default: ${DEFAULT-VALUE}.")
    int cycles;

    @Option(names = "--refresh-timeout", paramLabel = "D", defaultValue = "2m", converter = DurationConverter.class,
            description = "Longest one refresh may take; it is cancelled then, reported as timed out, and not run"
                    + " again for that query. Default: ${DEFAULT-VALUE}.")
    Duration refreshTimeout;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
            description = "Seed of the random choice of orders to delete and update. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "bench-results",
            description = "Directory for the CSV files and the PNG charts. Default: ${DEFAULT-VALUE}.")
    Path output;

    @Option(names = "--keep", description = "With --jdbc-url: leave the TPC-H tables, stream tables and"
            + " materialized views in the database at the end, to inspect them (EXPLAIN, explain_stream_table);"
            + " the next run removes them first.")
    boolean keep;

    @Option(names = "--no-auto", description = "No AUTO stream tables: each cycle refreshes and checks one stream"
            + " table less per query (for long runs that only compare DIFFERENTIAL, FULL and the view).")
    boolean noAuto;

    @Mixin
    BenchDatabaseOptions database;

    @Spec
    CommandSpec spec;

    List<Integer> queryNumbers;
    List<ChangeSize> changeSizes;

    /** Rejects impossible parameters as usage errors (exit code 2) before anything starts. */
    void validate() {
        database.validate();
        if (keep && !database.external()) {
            throw usage("--keep needs --jdbc-url: without it the temporary PostgreSQL is removed at the end");
        }
        // Below 0.01 the generator has fewer than 100 suppliers and repeats partsupp keys.
        if (!(scale >= 0.01) || scale > 100) {
            throw usage("--sf must be between 0.01 and 100, got " + scale);
        }
        if (cycles < 1 || cycles > 1000) {
            throw usage("--cycles must be between 1 and 1000, got " + cycles);
        }
        if (refreshTimeout.isZero()) {
            throw usage("--refresh-timeout must be longer than 0s");
        }
        try {
            queryNumbers = TpchQueries.parseSelection(queries);
            changeSizes = ChangeSize.parseList(changes);
            // TPC-H has SF × 1,500,000 orders: a size in rows that needs more than half of them fails now, not after the load.
            changeSizes.forEach(size -> size.ordersOf(Math.round(scale * 1_500_000)));
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** The command line that repeats this run. */
    String commandLine() {
        return "bin/pgtrickle bench tpch --sf " + Figures.plain(scale) + " --queries " + queries.strip()
                + " --change " + changeSizes.stream().map(ChangeSize::label).collect(Collectors.joining(","))
                + " --cycles " + cycles + " --refresh-timeout " + DurationText.format(refreshTimeout)
                + " --seed " + seed + " --output " + output + (noAuto ? " --no-auto" : "") + (keep ? " --keep" : "")
                + database.commandLineOptions();
    }

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println("pgtrickle bench tpch: DIFFERENTIAL vs FULL refresh vs REFRESH MATERIALIZED VIEW"
                + (noAuto ? "" : " vs AUTO") + " on TPC-H");
        out.println();
        out.println("machine     " + Machine.describe());
        out.println("command     " + commandLine());
        out.flush();
        try {
            return database.withEngine(err, Duration.ofSeconds(1), (engine, config, where) -> bench(engine, where, out,
                    err));
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int bench(PgTrickleEngine engine, String where, PrintWriter out, PrintWriter err) throws Exception {
        try (Connection c = engine.dataSource().getConnection()) {
            out.println("server      " + Sql.serverDescription(c) + ", " + where);
        }
        out.println("capture     " + engine.capture().mode() + "; the refreshes run one at a time, nothing else"
                + " writes");
        out.flush();
        TpchOptions options = new TpchOptions(scale, queryNumbers, changeSizes, cycles, seed, refreshTimeout, output,
                database.external() && !keep, !noAuto);
        long started = System.nanoTime();
        TpchBench.Results results = new TpchBench(engine, options, line -> {
            err.println(String.format(Locale.ROOT, "%7.1fs  %s", (System.nanoTime() - started) / 1e9, line));
            err.flush();
        }).run();
        TpchReport report = new TpchReport(results);
        List<Path> files = report.write(output);
        print(out, results, report);
        out.println();
        out.println("written: " + files.stream().map(Path::toString).collect(Collectors.joining(", ")));
        out.flush();
        return report.invariantHeldEverywhere() ? 0 : 1;
    }

    private void print(PrintWriter out, TpchBench.Results results, TpchReport report) {
        out.println();
        out.println(String.format(Locale.ROOT, "data        SF %s: %,d orders, loaded in %.1f s", Figures.plain(scale),
                results.orders(), results.loadSeconds()));
        for (QuerySetup s : results.setups()) {
            if (!s.differential() && s.usable()) {
                out.println("FULL only   " + s.query().label() + ": " + s.fullOnlyReason());
            }
        }
        for (QuerySetup s : results.setups()) {
            if (!s.query().adaptations().isEmpty()) {
                out.println("adapted     " + s.query().label() + ": " + String.join("; ", s.query().adaptations()));
            }
        }
        for (ChangeSize change : changeSizes) {
            out.println();
            TpchBench.BatchResult batch = results.batches().stream().filter(b -> b.change().equals(change))
                    .findFirst().orElseThrow();
            out.println(String.format(Locale.ROOT, "change %s: %d orders inserted, %d deleted, %d updated per batch"
                    + " (%,d rows written), %d cycles; times in ms", change.label(), batch.rows().ordersInserted(),
                    batch.rows().ordersDeleted(), batch.rows().ordersUpdated(), batch.rows().rows(), cycles));
            TextTable table = new TextTable(report.summaryHeader(), report.summaryRightAligned());
            report.summaryRows(change).forEach(table::add);
            out.print(table.render(""));
            String auto = report.autoVerdict(change);
            if (!auto.isEmpty()) {
                out.println(auto);
            }
        }
        List<String> problems = report.problems();
        out.println();
        if (problems.isEmpty()) {
            out.println("every refresh succeeded and every invariant check held");
        } else {
            out.println("problems:");
            problems.forEach(p -> out.println("  " + p));
        }
    }
}
