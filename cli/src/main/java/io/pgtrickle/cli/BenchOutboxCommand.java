package io.pgtrickle.cli;

import io.pgtrickle.bench.Machine;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.bench.outbox.OutboxBench;
import io.pgtrickle.core.PgTrickleEngine;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code pgtrickle bench outbox}: what an outbox adds to a refresh. */
@Command(name = "outbox", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "What an outbox adds to a refresh. Per query shape (an aggregate, a projection), two DIFFERENTIAL"
                    + " stream tables with the same query, one with an outbox; each round changes --changed-rows"
                    + " source rows and refreshes both, in alternating order, and prints the medians side by side.",
            "Writes outbox-overhead.csv into --output.",
            ""},
        footer = {"", "Examples:",
            "  pgtrickle bench outbox",
            "  pgtrickle bench outbox --source-rows 1000000 --changed-rows 10000 --rounds 30"})
final class BenchOutboxCommand implements Callable<Integer> {
    @Option(names = "--source-rows", paramLabel = "N", defaultValue = "100000",
            description = "Rows of the source table (ten per group). Default: ${DEFAULT-VALUE}.")
    int sourceRows;

    @Option(names = "--changed-rows", paramLabel = "N", defaultValue = "1000",
            description = "Source rows changed per round, each in its own group. Default: ${DEFAULT-VALUE}.")
    int changedRows;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "20",
            description = "Measured rounds per shape. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "bench-results",
            description = "Directory for the CSV file. Default: ${DEFAULT-VALUE}.")
    Path output;

    @Mixin
    BenchDatabaseOptions database;

    @Spec
    CommandSpec spec;

    OutboxBench.Options validate() {
        database.validate();
        if (sourceRows < 1000 || sourceRows > 100_000_000) {
            throw usage("--source-rows must be between 1000 and 100000000, got " + sourceRows);
        }
        if (changedRows < 1 || changedRows > sourceRows / 10) {
            throw usage("--changed-rows must be between 1 and a tenth of --source-rows (" + sourceRows / 10
                    + "), got " + changedRows);
        }
        if (rounds < 1 || rounds > 10_000) {
            throw usage("--rounds must be between 1 and 10000, got " + rounds);
        }
        return new OutboxBench.Options(sourceRows, changedRows, rounds);
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    String commandLine() {
        return "bin/pgtrickle bench outbox --source-rows " + sourceRows + " --changed-rows " + changedRows
                + " --rounds " + rounds + " --output " + output + database.commandLineOptions();
    }

    @Override
    public Integer call() throws Exception {
        OutboxBench.Options options = validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println("pgtrickle bench outbox: refresh with and without an outbox");
        out.println();
        out.println("machine     " + Machine.describe());
        out.println("command     " + commandLine());
        out.flush();
        try {
            return database.withEngine(err, Duration.ofSeconds(1), (engine, config, where) -> bench(engine, where,
                    options, out, err));
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int bench(PgTrickleEngine engine, String where, OutboxBench.Options options, PrintWriter out,
                      PrintWriter err) throws Exception {
        try (Connection c = engine.dataSource().getConnection()) {
            out.println("server      " + Sql.serverDescription(c) + ", " + where);
        }
        out.println("capture     " + engine.capture().mode());
        out.flush();
        long started = System.nanoTime();
        List<OutboxBench.ShapeResult> results = new OutboxBench(engine, options, line -> {
            err.println(String.format(Locale.ROOT, "%7.1fs  %s", (System.nanoTime() - started) / 1e9, line));
            err.flush();
        }).run();
        out.println();
        out.println("refresh time, " + changedRows + " changed source rows per round, " + rounds
                + " rounds (times in ms)");
        TextTable table = new TextTable(OutboxBench.HEADER, List.of(false, true, true, true, true, true, true, true));
        OutboxBench.rows(results).forEach(table::add);
        out.print(table.render(""));
        out.println();
        out.println("written: " + OutboxBench.write(results, output));
        out.flush();
        return 0;
    }
}
