package io.pgtrickle.cli;

import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.Machine;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.bench.load.LoadBench;
import io.pgtrickle.bench.load.LoadOptions;
import io.pgtrickle.bench.load.LoadReport;
import io.pgtrickle.bench.DurationText;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.schedule.Schedule;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code pgtrickle bench load}: commit-to-visibility lag of stream tables under sustained inserts. */
@Command(name = "load", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "End-to-end lag under sustained writes. Writers insert into load_orders (20,000 rows preloaded; 1,000"
                    + " customers in 5 regions) at each target rate in turn, for --duration each, while the running"
                    + " engine keeps three DIFFERENTIAL stream tables current on --schedule: load_aggregate (GROUP BY"
                    + " customer), load_join (orders JOIN customers) and load_join_aggregate (the join grouped by"
                    + " region).",
            "Lag: each writer transaction returns its id and the writer notes when its commit was acknowledged; a"
                    + " poller reads the stream tables' frontiers (the snapshot each one's contents were computed at)"
                    + " every --poll. A transaction is visible in a stream table from the first poll whose frontier"
                    + " sees it; lag = that poll's time - the acknowledgement (this JVM's clock; it includes up to"
                    + " one poll interval). After each phase the run waits until every transaction is visible and"
                    + " checks each stream table against its query.",
            "Engine CPU and memory: the engine runs in this JVM, so its CPU is the process CPU time minus the"
                    + " benchmark's own threads (percent of one core), sampled every second with the heap in use and"
                    + " the resident set. PostgreSQL's CPU is not included.",
            "Prints per rate and stream table the achieved write rate, lag p50, p99 and max, and the engine's"
                    + " resources; writes load-summary.csv and load-lag.png into --output.",
            ""},
        footer = {"", "Examples:",
            "  pgtrickle bench load --rates 1000,5000 --duration 30s",
            "  pgtrickle bench load --rates 500 --duration 10s --schedule 1s --capture trigger",
            "  pgtrickle bench load --audit --rates 5000 --writers 8 --duration 2m --seed 7",
            "",
            "Exit code 0 when every stream table equalled its query after every phase (and, with --audit, no writer"
                    + " transaction was missing or doubled); 1 otherwise."})
final class BenchLoadCommand implements Callable<Integer> {
    @Option(names = "--rates", paramLabel = "LIST", defaultValue = "1000,5000",
            description = "Target rows per second across all writers, one phase each, in order. Default: ${DEFAULT-VALUE}.")
    String rates;

    @Option(names = "--duration", paramLabel = "D", defaultValue = "30s", converter = DurationConverter.class,
            description = "Length of each phase, such as 30s or 1m. Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(names = "--warmup", paramLabel = "D", defaultValue = "5s", converter = DurationConverter.class,
            description = "Load at the first rate before the measured phases, not measured (JIT, capture start-up);"
                    + " 0s for none. Default: ${DEFAULT-VALUE}.")
    Duration warmup;

    @Option(names = "--writers", paramLabel = "N", defaultValue = "4",
            description = "Writer threads, one connection each. Default: ${DEFAULT-VALUE}.")
    int writers;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1",
            description = "Rows per INSERT, each INSERT one transaction; the writers send rate / batch transactions"
                    + " per second. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--schedule", paramLabel = "S", defaultValue = "250ms",
            description = "Schedule of the three stream tables (at least 100ms). Default: ${DEFAULT-VALUE}.")
    String schedule;

    @Option(names = "--tick", paramLabel = "D", defaultValue = "100ms", converter = DurationConverter.class,
            description = "How often the engine's scheduler looks for due stream tables. Default: ${DEFAULT-VALUE}.")
    Duration tick;

    @Option(names = "--poll", paramLabel = "D", defaultValue = "10ms", converter = DurationConverter.class,
            description = "How often the stream tables' frontiers are read to see what is visible. Default:"
                    + " ${DEFAULT-VALUE}.")
    Duration poll;

    @Option(names = "--drain-timeout", paramLabel = "D", defaultValue = "1m", converter = DurationConverter.class,
            description = "Longest wait after a phase for every transaction to become visible. Default:"
                    + " ${DEFAULT-VALUE}.")
    Duration drainTimeout;

    @Option(names = "--audit",
            description = "Account for every writer transaction: log what change capture delivered and what entered"
                    + " and left the change buffer of load_orders, and at the end check that load_join holds each"
                    + " written order exactly once; each transaction missing or doubled is classified (never"
                    + " delivered, not buffered, buffered under another xid, outside every window, cleaned before"
                    + " use) and makes the exit code 1.")
    boolean audit;

    @Option(names = "--seed", paramLabel = "N",
            description = "Seed of the writers' customers and amounts, so a run's data can be repeated. Default: a"
                    + " new one each run, printed with the command line.")
    Long seed;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "bench-results",
            description = "Directory for the CSV file and the PNG chart. Default: ${DEFAULT-VALUE}.")
    Path output;

    @Mixin
    BenchDatabaseOptions database;

    @Spec
    CommandSpec spec;

    List<Long> rateList;

    void validate() {
        database.validate();
        rateList = new ArrayList<>();
        for (String part : rates.split(",")) {
            try {
                long r = Long.parseLong(part.strip());
                if (r < 1 || r > 1_000_000) {
                    throw usage("--rates must be between 1 and 1000000 rows/s, got " + r);
                }
                rateList.add(r);
            } catch (NumberFormatException e) {
                throw usage("--rates must be rows per second such as 1000,5000, got " + rates);
            }
        }
        if (duration.isZero()) {
            throw usage("--duration must be longer than 0s");
        }
        if (writers < 1 || writers > 64) {
            throw usage("--writers must be between 1 and 64, got " + writers);
        }
        if (batch < 1 || batch > 10_000) {
            throw usage("--batch must be between 1 and 10000, got " + batch);
        }
        try {
            Schedule.parse(schedule);
        } catch (RuntimeException e) {
            throw usage("--schedule: " + e.getMessage());
        }
        if (seed == null) {
            seed = (long) new SplittableRandom().nextInt(1, Integer.MAX_VALUE);
        }
        if (tick.compareTo(Duration.ofMillis(10)) < 0 || poll.isZero() || drainTimeout.isZero()) {
            throw usage("--tick must be at least 10ms, --poll and --drain-timeout longer than 0s");
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    String commandLine() {
        return "bin/pgtrickle bench load --rates " + rateList.stream().map(String::valueOf).collect(Collectors.joining(","))
                + " --duration " + DurationText.format(duration) + " --warmup " + DurationText.format(warmup)
                + " --writers " + writers + " --batch " + batch
                + " --schedule " + schedule + " --tick " + DurationText.format(tick) + " --poll "
                + DurationText.format(poll) + (audit ? " --audit" : "") + " --seed " + seed + " --output " + output
                + database.commandLineOptions();
    }

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println("pgtrickle bench load: commit-to-visibility lag of stream tables under sustained inserts");
        out.println();
        out.println("machine     " + Machine.describe());
        out.println("command     " + commandLine());
        out.flush();
        try {
            return database.withEngine(err, tick, (engine, config, where) -> bench(engine, config, where, out, err));
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int bench(PgTrickleEngine engine, EngineConfig config, String where, PrintWriter out, PrintWriter err)
            throws Exception {
        try (Connection c = engine.dataSource().getConnection()) {
            out.println("server      " + Sql.serverDescription(c) + ", " + where);
        }
        out.println("capture     " + engine.capture().mode() + "; scheduler tick " + DurationText.format(tick));
        out.flush();
        long started = System.nanoTime();
        LoadBench.Run run = new LoadBench(engine, () -> ConnectionOptions.connect(config, "pgtrickle-bench"),
                new LoadOptions(rateList, duration, warmup, writers, batch, schedule, poll, drainTimeout, output,
                        database.external(), audit, seed), line -> {
                    err.println(String.format(Locale.ROOT, "%7.1fs  %s", (System.nanoTime() - started) / 1e9, line));
                    err.flush();
                }).run();
        List<LoadBench.Phase> phases = run.phases();
        List<Path> files = LoadReport.write(phases, output, schedule);
        out.println();
        out.println("lag from commit to visibility in the stream table (ms), engine CPU (% of one core) and memory (MB)");
        TextTable table = new TextTable(LoadReport.HEADER, List.of(true, true, false, true, true, true, true, true,
                false, true, true, true, true, true));
        LoadReport.rows(phases).forEach(table::add);
        out.print(table.render(""));
        for (LoadBench.Phase p : phases) {
            if (p.error() != null) {
                out.println("phase " + p.targetRate() + " rows/s: a writer failed: " + p.error());
            }
        }
        if (run.audit() != null) {
            out.println();
            run.audit().lines().forEach(out::println);
        }
        out.println();
        out.println("written: " + files.stream().map(Path::toString).collect(Collectors.joining(", ")));
        out.flush();
        boolean auditClean = run.audit() == null || run.audit().clean();
        return LoadReport.invariantHeldEverywhere(phases) && auditClean ? 0 : 1;
    }
}
