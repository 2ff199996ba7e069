package io.pgtrickle.cli;

import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.Machine;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.bench.recursive.RecursiveBench;
import io.pgtrickle.bench.recursive.RecursiveOptions;
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

/** {@code pgtrickle bench recursive}: whether a recursive refresh works in proportion to what a change reaches. */
@Command(name = "recursive", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Whether a DIFFERENTIAL refresh of a WITH RECURSIVE query does work in proportion to the subgraph a"
                    + " change reaches. Loads a tree of --nodes departments (--fanout children each) and a chain"
                    + " --chain-depth deep; keeps the org-chart query (paths and depths) as a DIFFERENTIAL stream"
                    + " table, a FULL one and a materialized view; each round renames a leaf, subtrees of about"
                    + " F^3 and F^5 nodes, the chain's top and a node near its end, inserts and deletes a leaf and"
                    + " moves a subtree of about F^4 nodes, refreshing all three after each change in rotating"
                    + " order and checking both stream tables against the query (multiset equality).",
            "Prints the medians per change with the rows the differential refresh inserted and deleted and the"
                    + " bytes of the paths it rewrites (a chain's rows are few but long);"
                    + " writes recursive.csv into --output.",
            ""},
        footer = {"", "Examples:",
            "  pgtrickle bench recursive",
            "  pgtrickle bench recursive --nodes 1000000 --fanout 10 --chain-depth 3000 --rounds 9"})
final class BenchRecursiveCommand implements Callable<Integer> {
    @Option(names = "--nodes", paramLabel = "N", defaultValue = "200000",
            description = "Nodes of the tree. Default: ${DEFAULT-VALUE}.")
    int nodes;

    @Option(names = "--fanout", paramLabel = "F", defaultValue = "5",
            description = "Children per inner node of the tree. Default: ${DEFAULT-VALUE}.")
    int fanout;

    @Option(names = "--chain-depth", paramLabel = "D", defaultValue = "1500",
            description = "Nodes of the separate chain (each the parent of the next). Default: ${DEFAULT-VALUE}.")
    int chainDepth;

    @Option(names = "--rounds", paramLabel = "N", defaultValue = "5",
            description = "Measured rounds, after one untimed round. Default: ${DEFAULT-VALUE}.")
    int rounds;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "bench-results",
            description = "Directory for the CSV file. Default: ${DEFAULT-VALUE}.")
    Path output;

    @Mixin
    BenchDatabaseOptions database;

    @Spec
    CommandSpec spec;

    RecursiveOptions validate() {
        database.validate();
        if (fanout < 2 || fanout > 1000) {
            throw usage("--fanout must be between 2 and 1000, got " + fanout);
        }
        if (nodes < 100 || nodes > 50_000_000 || nodes < fanout + 2) {
            throw usage("--nodes must be between 100 and 50000000 and at least --fanout + 2, got " + nodes);
        }
        // Paths grow with depth: the chain's rows hold D²/2 names in all.
        if (chainDepth < 10 || chainDepth > 5000) {
            throw usage("--chain-depth must be between 10 and 5000, got " + chainDepth);
        }
        if (rounds < 1 || rounds > 1000) {
            throw usage("--rounds must be between 1 and 1000, got " + rounds);
        }
        return new RecursiveOptions(nodes, fanout, chainDepth, rounds);
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    String commandLine() {
        return "bin/pgtrickle bench recursive --nodes " + nodes + " --fanout " + fanout + " --chain-depth " + chainDepth
                + " --rounds " + rounds + " --output " + output + database.commandLineOptions();
    }

    @Override
    public Integer call() throws Exception {
        RecursiveOptions options = validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println("pgtrickle bench recursive: refresh work against the subgraph a change reaches");
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

    private int bench(PgTrickleEngine engine, String where, RecursiveOptions options, PrintWriter out,
                      PrintWriter err) throws Exception {
        try (Connection c = engine.dataSource().getConnection()) {
            out.println("server      " + Sql.serverDescription(c) + ", " + where);
        }
        out.println("capture     " + engine.capture().mode());
        out.flush();
        long started = System.nanoTime();
        List<RecursiveBench.KindResult> results = new RecursiveBench(engine, options, line -> {
            err.println(String.format(Locale.ROOT, "%7.1fs  %s", (System.nanoTime() - started) / 1e9, line));
            err.flush();
        }).run();
        out.println();
        out.println("refresh time per change, " + nodes + " tree nodes (fanout " + fanout + ") and a chain of "
                + chainDepth + ", medians of " + rounds + " rounds; rows are the DIFFERENTIAL refresh's, path bytes"
                + " those of the subtree's paths");
        TextTable table = new TextTable(RecursiveBench.HEADER, List.of(false, true, true, true, true, true, true, true,
                true, true));
        RecursiveBench.rows(results).forEach(table::add);
        out.print(table.render(""));
        out.println("every refresh held the invariant (both stream tables equal to the query after each change)");
        for (RecursiveBench.KindResult r : results) {
            if (!r.asExpected()) {
                out.println("note: " + r.label() + " changed " + Figures.plain(r.insertedMedian()) + "/"
                        + Figures.plain(r.deletedMedian())
                        + " rows (inserted/deleted, median), the subtree predicts " + r.expectedInserted() + "/"
                        + r.expectedDeleted());
            }
        }
        out.println();
        out.println("written: " + RecursiveBench.write(results, output));
        out.flush();
        return 0;
    }
}
