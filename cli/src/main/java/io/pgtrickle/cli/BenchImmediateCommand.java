package io.pgtrickle.cli;

import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.Machine;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.bench.immediate.ImmediateBench;
import io.pgtrickle.bench.immediate.ImmediateOptions;
import io.pgtrickle.core.PgTrickleEngine;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code pgtrickle bench immediate}: what an IMMEDIATE stream table costs the writer per statement. */
@Command(name = "immediate", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "What an IMMEDIATE stream table costs the writer per statement, on the shape of pg_ivm's example:"
                    + " pgbench-like pgbench_accounts, pgbench_branches and pgbench_tellers at --scale (100,000"
                    + " accounts per unit) and the join " + ImmediateBench.JOIN + ".",
            "Times pgbench's single-row " + ImmediateBench.STATEMENT + " (autocommit, random account and"
                    + " delta, one connection) --statements times after --warmup untimed ones, four ways:"
                    + " no stream table on the source (half of the statements first, half last, to show the"
                    + " machine's drift); a DIFFERENTIAL stream table of the join, which the engine"
                    + " does not refresh meanwhile (the writer pays the change capture only: a trigger with"
                    + " --capture trigger, nothing with wal); an IMMEDIATE one of the join; an IMMEDIATE"
                    + " aggregate (" + ImmediateBench.AGGREGATE + ").",
            "Prints p50, p90, p99, mean and max latency, the ratios to no stream table and the difference of the p50s; checks each stream"
                    + " table against a fresh run of its query afterwards (multiset equality; the DIFFERENTIAL one"
                    + " after a refresh) and exits with 1 when one differs. Writes immediate.csv and immediate.md"
                    + " into --output.",
            ""},
        footer = {"", "Examples:",
            "  pgtrickle bench immediate --scale 1 --statements 500",
            "  pgtrickle bench immediate --capture trigger --output docs/bench/immediate-2026-12-07"})
final class BenchImmediateCommand implements Callable<Integer> {
    @Option(names = "--scale", paramLabel = "S", defaultValue = "10",
            description = "pgbench scale: 100,000 accounts and one branch per unit; a fraction such as 0.01 for a"
                    + " toy run. Default: ${DEFAULT-VALUE}.")
    double scale;

    @Option(names = "--statements", paramLabel = "N", defaultValue = "2000",
            description = "Timed statements per setup. Default: ${DEFAULT-VALUE}.")
    int statements;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "200",
            description = "Untimed statements before them. Default: ${DEFAULT-VALUE}.")
    int warmup;

    @Option(names = "--seed", paramLabel = "N", defaultValue = "42",
            description = "Seed of the accounts and deltas drawn. Default: ${DEFAULT-VALUE}.")
    long seed;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "bench-results",
            description = "Directory for the CSV and markdown files. Default: ${DEFAULT-VALUE}.")
    Path output;

    @Mixin
    BenchDatabaseOptions database;

    @Spec
    CommandSpec spec;

    ImmediateOptions validate() {
        database.validate();
        if (!(scale >= 0.001 && scale <= 1000)) {
            throw usage("--scale must be between 0.001 and 1000, got " + Figures.plain(scale));
        }
        if (statements < 1 || statements > 1_000_000) {
            throw usage("--statements must be between 1 and 1000000, got " + statements);
        }
        if (warmup < 0 || warmup > 1_000_000) {
            throw usage("--warmup must be between 0 and 1000000, got " + warmup);
        }
        return new ImmediateOptions(scale, statements, warmup, seed);
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    String commandLine() {
        return "bin/pgtrickle bench immediate --scale " + Figures.plain(scale) + " --statements " + statements
                + " --warmup " + warmup + " --seed " + seed + " --output " + output + database.commandLineOptions();
    }

    @Override
    public Integer call() throws Exception {
        ImmediateOptions options = validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<String> preamble = new ArrayList<>();
        preamble.add("date        " + Instant.now().truncatedTo(ChronoUnit.SECONDS));
        preamble.add("machine     " + Machine.describe());
        preamble.add("command     " + commandLine());
        out.println("pgtrickle bench immediate: the writer's cost per statement with an IMMEDIATE stream table");
        out.println();
        preamble.forEach(out::println);
        out.flush();
        try {
            return database.withEngine(err, Duration.ofSeconds(1), (engine, config, where) -> bench(engine, where,
                    options, preamble, out, err));
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int bench(PgTrickleEngine engine, String where, ImmediateOptions options, List<String> preamble,
                      PrintWriter out, PrintWriter err) throws Exception {
        try (Connection c = engine.dataSource().getConnection()) {
            preamble.add("server      " + Sql.serverDescription(c) + ", " + where);
        }
        String capture = engine.capture().mode().name();
        preamble.add("capture     " + capture);
        String loadBefore = loadAverage();
        out.println(preamble.get(preamble.size() - 2));
        out.println(preamble.get(preamble.size() - 1));
        out.flush();
        long started = System.nanoTime();
        ImmediateBench.Run run = new ImmediateBench(engine, options, line -> {
            err.println(String.format(Locale.ROOT, "%7.1fs  %s", (System.nanoTime() - started) / 1e9, line));
            err.flush();
        }).run();
        List<ImmediateBench.SetupResult> results = run.setups();
        preamble.add("load avg    " + loadBefore + " at the start, " + loadAverage() + " at the end (1, 5, 15 min)");
        out.println(preamble.get(preamble.size() - 1));
        out.println();
        String title = String.format(Locale.ROOT, "single-row %s, autocommit, %,d accounts (scale %s), %,d timed"
                + " statements per setup after %,d warm-up, seed %d", ImmediateBench.STATEMENT, options.accounts(),
                Figures.plain(options.scale()), options.statements(), options.warmup(), options.seed());
        out.println(title);
        TextTable table = new TextTable(ImmediateBench.HEADER, List.of(false, true, true, true, true, true, true, true,
                true, true, false));
        ImmediateBench.rows(results, capture).forEach(table::add);
        out.print(table.render(""));
        out.println(ImmediateBench.drift(run));
        preamble.add("");
        preamble.add(title);
        List<ImmediateBench.SetupResult> differing = results.stream().filter(r -> !r.equal()).toList();
        if (differing.isEmpty()) {
            out.println("every stream table equals its query after the measurement (multiset; IMMEDIATE without a"
                    + " refresh)");
        }
        out.println();
        out.println("written: " + String.join(", ", ImmediateBench.write(run, capture, preamble, output).stream()
                .map(Path::toString).toList()));
        out.flush();
        if (!differing.isEmpty()) {
            for (ImmediateBench.SetupResult r : differing) {
                err.println("error: " + ImmediateBench.label(r.setup(), capture) + ": the stream table differs from"
                        + " its query by " + r.differences() + " rows");
            }
            err.flush();
            return 1;
        }
        return 0;
    }

    /** The first three fields of /proc/loadavg, or "n/a". */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f.length >= 3 ? f[0] + " " + f[1] + " " + f[2] : "n/a";
        } catch (IOException | RuntimeException e) {
            return "n/a";
        }
    }
}
