package io.pgtrickle.cli;

import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.Machine;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.bench.idle.IdleBench;
import io.pgtrickle.bench.idle.IdleOptions;
import io.pgtrickle.bench.tpch.TpchQueries;
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

/** {@code pgtrickle bench idle}: what a refresh, and a scheduler tick, cost when nothing changed. */
@Command(name = "idle", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "The cost of doing nothing. Part one loads TPC-H and, per query, creates a DIFFERENTIAL stream table, a"
                    + " FULL stream table and a materialized view (as 'bench tpch' does); then refreshes each of"
                    + " them --repeats times with no source changed, and prints median and p95 per stream table.",
            "Part two creates --stream-tables idle DIFFERENTIAL stream tables over a 10,000-row table and times the"
                    + " engine's scheduler pass (housekeeping, catalog read, due refreshes; the pass the engine's"
                    + " scheduler thread runs every tick): first with none due, then with all due but nothing"
                    + " changed.",
            "Writes idle-refresh.csv, idle-tick.csv and idle-refresh.png into --output.",
            ""},
        footer = {"", "Examples:",
            "  pgtrickle bench idle",
            "  pgtrickle bench idle --sf 0.1 --queries 1-10 --repeats 20 --stream-tables 200"})
final class BenchIdleCommand implements Callable<Integer> {
    @Option(names = "--sf", paramLabel = "SF", defaultValue = "0.01",
            description = "TPC-H scale factor of the tables part one reads, 0.01 to 100. Default: ${DEFAULT-VALUE}.")
    double scale;

    @Option(names = "--queries", paramLabel = "LIST", defaultValue = "all",
            description = "TPC-H queries of part one: all, or numbers and ranges such as 1,3,6 or 1-5,14."
                    + " Default: ${DEFAULT-VALUE}.")
    String queries;

    @Option(names = "--repeats", paramLabel = "N", defaultValue = "10",
            description = "Measured refreshes per stream table, and measured ticks per case. Default: ${DEFAULT-VALUE}.")
    int repeats;

    @Option(names = "--stream-tables", paramLabel = "N", defaultValue = "100",
            description = "Idle stream tables in the scheduler tick of part two. Default: ${DEFAULT-VALUE}.")
    int streamTables;

    @Option(names = "--refresh-timeout", paramLabel = "D", defaultValue = "2m", converter = DurationConverter.class,
            description = "Longest the refreshes of one query may take together; cancelled then and reported."
                    + " Default: ${DEFAULT-VALUE}.")
    Duration refreshTimeout;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "bench-results",
            description = "Directory for the CSV files and the PNG chart. Default: ${DEFAULT-VALUE}.")
    Path output;

    @Mixin
    BenchDatabaseOptions database;

    @Spec
    CommandSpec spec;

    List<Integer> queryNumbers;

    void validate() {
        database.validate();
        // Below 0.01 the generator has fewer than 100 suppliers and repeats partsupp keys.
        if (!(scale >= 0.01) || scale > 100) {
            throw usage("--sf must be between 0.01 and 100, got " + scale);
        }
        if (repeats < 1 || repeats > 10_000) {
            throw usage("--repeats must be between 1 and 10000, got " + repeats);
        }
        if (streamTables < 1 || streamTables > 10_000) {
            throw usage("--stream-tables must be between 1 and 10000, got " + streamTables);
        }
        if (refreshTimeout.isZero()) {
            throw usage("--refresh-timeout must be longer than 0s");
        }
        try {
            queryNumbers = TpchQueries.parseSelection(queries);
        } catch (IllegalArgumentException e) {
            throw usage(e.getMessage());
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    String commandLine() {
        return "bin/pgtrickle bench idle --sf " + Figures.plain(scale) + " --queries " + queries.strip() + " --repeats "
                + repeats + " --stream-tables " + streamTables + " --refresh-timeout "
                + DurationText.format(refreshTimeout) + " --output " + output + database.commandLineOptions();
    }

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println("pgtrickle bench idle: refreshes and scheduler ticks when nothing changed");
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
        out.println("capture     " + engine.capture().mode());
        out.flush();
        long started = System.nanoTime();
        IdleBench.Results r = new IdleBench(engine, new IdleOptions(scale, queryNumbers, repeats, streamTables,
                refreshTimeout, output, database.external()), line -> {
                    err.println(String.format(Locale.ROOT, "%7.1fs  %s", (System.nanoTime() - started) / 1e9, line));
                    err.flush();
                }).run();
        List<Path> files = IdleBench.write(r, output, scale);
        out.println();
        out.println("refresh when nothing changed, TPC-H SF " + Figures.plain(scale) + " (" + repeats
                + " refreshes each; times in ms)");
        TextTable table = new TextTable(IdleBench.HEADER, List.of(false, false, true, true, true, true, true, true,
                true));
        IdleBench.rows(r).forEach(table::add);
        out.print(table.render(""));
        out.println();
        IdleBench.Ticks t = r.ticks();
        if (t.error() != null) {
            out.println("scheduler tick: failed: " + t.error());
        } else {
            out.println("scheduler tick with " + t.streamTables() + " idle stream tables (" + repeats
                    + " ticks each; times in ms)");
            TextTable ticks = new TextTable(List.of("case", "median", "p95", "max", "per stream table"),
                    List.of(false, true, true, true, true));
            ticks.add(List.of("none due", Figures.millis(t.noneDue().medianMillis()),
                    Figures.millis(t.noneDue().p95Millis()), Figures.millis(t.noneDue().maxMillis()),
                    Figures.millis(t.noneDue().medianMillis() / t.streamTables())));
            ticks.add(List.of("all due, nothing changed", Figures.millis(t.allDue().medianMillis()),
                    Figures.millis(t.allDue().p95Millis()), Figures.millis(t.allDue().maxMillis()),
                    Figures.millis(t.perStreamTableMillis())));
            ticks.add(List.of(String.format(Locale.ROOT, "all due, nothing changed, tiered (%.0f checked per tick)",
                    t.tieredChecked()), Figures.millis(t.tiered().medianMillis()), Figures.millis(t.tiered().p95Millis()),
                    Figures.millis(t.tiered().maxMillis()), Figures.millis(t.tiered().medianMillis() / t.streamTables())));
            out.print(ticks.render(""));
        }
        List<String> problems = r.queries().stream().filter(q -> q.error() != null)
                .map(q -> q.setup().query().label() + ": " + q.error()).collect(Collectors.toList());
        out.println();
        out.println(problems.isEmpty() ? "every refresh succeeded" : "problems:\n  " + String.join("\n  ", problems));
        out.println();
        out.println("written: " + files.stream().map(Path::toString).collect(Collectors.joining(", ")));
        out.flush();
        return 0;
    }
}
