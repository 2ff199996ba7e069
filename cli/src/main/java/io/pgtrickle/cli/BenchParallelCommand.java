package io.pgtrickle.cli;

import io.pgtrickle.bench.Machine;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.bench.parallel.ParallelBench;
import io.pgtrickle.bench.parallel.ParallelOptions;
import io.pgtrickle.core.PgTrickleEngine;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
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

/** {@code pgtrickle bench parallel}: the speed-up of refreshing independent stream tables concurrently. */
@Command(name = "parallel", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "The speed-up of refreshing independent stream tables concurrently. Loads par_source(id, grp, val) with"
                    + " --rows rows and creates --stream-tables DIFFERENTIAL stream tables, each an aggregate over"
                    + " its own slice (WHERE id %% n = i GROUP BY grp, distinct queries; with --sources own a table of its own per slice), and --dependants stream"
                    + " tables each joining two of them (refreshed after their sources: ordering still holds);"
                    + " all on a 100ms schedule.",
            "Each round updates about --changed-rows rows spread over every slice, waits until capture has"
                    + " buffered them and every stream table is due, then times one pass of the engine's scheduler"
                    + " (housekeeping included) that must refresh them all, once per --concurrency level (one"
                    + " scheduler each; levels in rotating order across rounds, after one warm-up round).",
            "Prints per level the median, p95 and max pass time, refreshes per second and the speed-up over"
                    + " concurrency 1 (of medians); then checks every stream table against a fresh run of its"
                    + " query (multiset equality) and exits with 1 when one differs. A pass that leaves stream"
                    + " tables unrefreshed (a refresh failed) is counted under 'not refreshed' and followed by"
                    + " untimed passes until all are refreshed. Writes parallel.csv and"
                    + " parallel.md into --output.",
            ""},
        footer = {"", "Examples:",
            "  pgtrickle bench parallel",
            "  pgtrickle bench parallel --stream-tables 200 --concurrency 1,4,16 --rounds 9"})
final class BenchParallelCommand implements Callable<Integer> {
    @Option(names = "--stream-tables", paramLabel = "N", defaultValue = "100",
            description = "Independent stream tables, one slice of the source each. Default: ${DEFAULT-VALUE}.")
    int streamTables;

    @Option(names = "--dependants", paramLabel = "N", defaultValue = "4",
            description = "Stream tables each joining two of the independent ones, at most half of"
                    + " --stream-tables. Default: ${DEFAULT-VALUE}.")
    int dependants;

    @Option(names = "--rows", paramLabel = "N", defaultValue = "200000",
            description = "Rows of the source table. Default: ${DEFAULT-VALUE}.")
    int rows;

    @Option(names = "--changed-rows", paramLabel = "N", defaultValue = "10000",
            description = "Rows updated per pass, spread over every slice. Default: ${DEFAULT-VALUE}.")
    int changedRows;

    @Option(names = "--concurrency", paramLabel = "LIST", defaultValue = "1,2,4,8",
            description = "Concurrency levels (refreshes at once), comma-separated. Default: ${DEFAULT-VALUE}.")
    String concurrency;

    @Option(names = "--sources", paramLabel = "KIND", defaultValue = "shared",
            description = "shared: every independent stream table reads its slice of par_source (one change buffer"
                    + " for all); own: each reads a table of its own holding its slice. Default: ${DEFAULT-VALUE}.")
    String sources;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "5",
            description = "Measured rounds (one pass per level each), after one warm-up round."
                    + " Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "bench-results",
            description = "Directory for the CSV and markdown files. Default: ${DEFAULT-VALUE}.")
    Path output;

    @Mixin
    BenchDatabaseOptions database;

    @Spec
    CommandSpec spec;

    ParallelOptions validate() {
        database.validate();
        if (streamTables < 1 || streamTables > 2000) {
            throw usage("--stream-tables must be between 1 and 2000, got " + streamTables);
        }
        if (dependants < 0 || dependants > streamTables / 2) {
            throw usage("--dependants must be between 0 and half of --stream-tables (" + streamTables / 2 + "), got "
                    + dependants);
        }
        if (rows < streamTables || rows > 100_000_000) {
            throw usage("--rows must be between --stream-tables (" + streamTables + ") and 100000000, got " + rows);
        }
        if (changedRows < 1 || changedRows > rows) {
            throw usage("--changed-rows must be between 1 and --rows (" + rows + "), got " + changedRows);
        }
        if (rounds < 1 || rounds > 1000) {
            throw usage("--rounds must be between 1 and 1000, got " + rounds);
        }
        List<Integer> levels = new ArrayList<>();
        for (String part : concurrency.split(",")) {
            int level;
            try {
                level = Integer.parseInt(part.strip());
            } catch (NumberFormatException e) {
                throw usage("--concurrency must be levels such as 1,2,4,8, got " + concurrency);
            }
            if (level < 1 || level > 64) {
                throw usage("--concurrency levels must be between 1 and 64, got " + level);
            }
            if (levels.contains(level)) {
                throw usage("--concurrency lists " + level + " twice");
            }
            levels.add(level);
        }
        boolean shared;
        switch (sources.strip().toLowerCase(Locale.ROOT)) {
            case "shared":
                shared = true;
                break;
            case "own":
                shared = false;
                break;
            default:
                throw usage("--sources must be shared or own, got " + sources);
        }
        return new ParallelOptions(streamTables, dependants, rows, changedRows, levels, rounds, shared);
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    String commandLine() {
        return "bin/pgtrickle bench parallel --stream-tables " + streamTables + " --dependants " + dependants
                + " --rows " + rows + " --changed-rows " + changedRows + " --concurrency "
                + concurrency.replaceAll("\\s+", "") + " --sources " + sources.strip().toLowerCase(Locale.ROOT)
                + " --rounds " + rounds + " --output " + output
                + database.commandLineOptions();
    }

    @Override
    public Integer call() throws Exception {
        ParallelOptions options = validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<String> preamble = new ArrayList<>();
        preamble.add("date        " + Instant.now().truncatedTo(ChronoUnit.SECONDS));
        preamble.add("machine     " + Machine.describe());
        preamble.add("command     " + commandLine());
        out.println("pgtrickle bench parallel: one scheduler pass over many due stream tables, by concurrency");
        out.println();
        preamble.forEach(out::println);
        out.flush();
        try {
            return database.withEngine(err, Duration.ofSeconds(1),
                    config -> config.withMaxConcurrentRefreshes(options.maxConcurrency()),
                    (engine, config, where) -> bench(engine, where, options, preamble, out, err));
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int bench(PgTrickleEngine engine, String where, ParallelOptions options, List<String> preamble,
                      PrintWriter out, PrintWriter err) throws Exception {
        try (Connection c = engine.dataSource().getConnection()) {
            preamble.add("server      " + Sql.serverDescription(c) + ", " + where);
        }
        preamble.add("capture     " + engine.capture().mode());
        String loadBefore = BenchImmediateCommand.loadAverage();
        out.println(preamble.get(preamble.size() - 2));
        out.println(preamble.get(preamble.size() - 1));
        out.flush();
        long started = System.nanoTime();
        ParallelBench.Results r = new ParallelBench(engine, options, line -> {
            err.println(String.format(Locale.ROOT, "%7.1fs  %s", (System.nanoTime() - started) / 1e9, line));
            err.flush();
        }).run();
        preamble.add("load avg    " + loadBefore + " at the start, " + BenchImmediateCommand.loadAverage()
                + " at the end (1, 5, 15 min)");
        out.println(preamble.get(preamble.size() - 1));
        out.println();
        String title = String.format(Locale.ROOT, "one scheduler pass refreshing %d stream tables (%d independent, %d"
                + " dependants), %,d source rows%s, %,d rows updated per pass; %d measured passes per level after"
                + " a warm-up; speed-up over concurrency %d (medians); %d CPUs", r.refreshesPerTick(),
                options.streamTables(), options.dependants(), options.rows(), options.sharedSource() ? ""
                        : " in " + options.streamTables() + " tables", r.rowsChangedPerRound(),
                options.rounds(), r.baseline().concurrency(), Runtime.getRuntime().availableProcessors());
        out.println(title);
        TextTable table = new TextTable(ParallelBench.HEADER, List.of(true, true, true, true, true, true, true));
        ParallelBench.rows(r).forEach(table::add);
        out.print(table.render(""));
        List<String> after = new ArrayList<>();
        if (r.held()) {
            after.add("every stream table (" + r.checked() + ") equals a fresh run of its query after the last round"
                    + " (multiset)");
        } else {
            for (ParallelBench.Difference d : r.differences()) {
                after.add("error: " + d.streamTable() + " differs from its query by " + d.rows() + " rows");
            }
        }
        if (!r.failures().isEmpty()) {
            after.add("note: passes left stream tables unrefreshed (their refresh failed; see the warnings above;"
                    + " each such pass was followed by untimed passes until all were refreshed):");
            r.failures().forEach(f -> after.add("  " + f));
        }
        after.forEach(out::println);
        preamble.add("");
        preamble.add(title);
        out.println();
        out.println("written: " + ParallelBench.write(r, options.sharedSource(), preamble, after, output).stream().map(Path::toString)
                .collect(Collectors.joining(", ")));
        out.flush();
        return r.held() ? 0 : 1;
    }
}
