package io.pgtrickle.cli;

import io.pgtrickle.bench.DurationText;
import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.Machine;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.bench.capture.CaptureBench;
import io.pgtrickle.bench.capture.CaptureOptions;
import io.pgtrickle.bench.capture.CaptureReport;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import java.io.PrintWriter;
import java.sql.Connection;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code pgtrickle bench capture}: how fast and how promptly change capture buffers a steady insert load. */
@Command(name = "capture", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Benchmark change capture: writers insert --batch rows per transaction into a table at a steady rate"
                    + " while the engine captures them into the change buffer; then it prints the write rate"
                    + " achieved, the changes per second that reached the buffer, and the commit-to-buffer latency"
                    + " (p50, p95, p99, max).",
            "With --rate 0 and multi-row transactions (--batch 100) the ingest rate is the most changes per second"
                    + " one replication slot sustains; with a rate such as 5000 the latency is that at this rate.",
            "",
            "Setup: the engine runs with the capture mode of --capture; the table bench_events (id bigserial,"
                    + " payload text, written_at timestamptz DEFAULT clock_timestamp()) gets a stream table"
                    + " bench_events_st with schedule 'calculated', which is never refreshed, so the buffer keeps"
                    + " every change.",
            "Measurement, on the database's clock, over the rows written after the warm-up: latency is a buffer"
                    + " row's captured_at minus the row's written_at (set by its INSERT, just before the commit);"
                    + " ingest rate is rows / (last captured_at - first written_at); write rate is rows / --duration."
                    + " With --capture trigger the buffer is written inside the INSERT's transaction, so the latency"
                    + " is the trigger's own time, and its cost shows in the insert round trip instead (client clock).",
            ""},
        footer = {"", "Examples:",
            "  pgtrickle bench capture --rate 5000 --duration 20s",
            "  pgtrickle bench capture --rate 0 --batch 100 --writers 4 --duration 30s",
            "  pgtrickle bench capture --capture trigger --rate 0 --writers 8 --duration 1m",
            "",
            "Exit code 0 when the figures were measured; 1 when a writer failed or capture did not buffer every row"
                    + " within 180 s of the load's end (the figures printed then cover the buffered rows only)."})
final class BenchCaptureCommand implements Callable<Integer> {
    static final int MAX_WRITERS = 64;

    @Option(names = "--rate", paramLabel = "N", defaultValue = "1000",
            description = "Target rows per second across all writers; 0 = as fast as the writers can. Default:"
                    + " ${DEFAULT-VALUE}.")
    long rate;

    @Option(names = "--duration", paramLabel = "D", defaultValue = "20s", converter = DurationConverter.class,
            description = "How long the measured load runs after the warm-up, such as 20s, 1m or 1m30s."
                    + " Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(names = "--writers", paramLabel = "N", defaultValue = "4",
            description = "Writer threads, one connection each. Default: ${DEFAULT-VALUE}.")
    int writers;

    @Option(names = "--batch", paramLabel = "N", defaultValue = "1",
            description = "Rows per INSERT, each INSERT one transaction. Default: ${DEFAULT-VALUE}.")
    int batch;

    @Option(names = "--warmup", paramLabel = "D", defaultValue = "3s", converter = DurationConverter.class,
            description = "Load before the measurement starts, not measured; 0s for none. Default: ${DEFAULT-VALUE}.")
    Duration warmup;

    @Mixin
    BenchDatabaseOptions database;

    @Spec
    CommandSpec spec;

    /** The name of --capture before the command moved under {@code bench}; kept so old scripts keep working. */
    @Option(names = "--mode", paramLabel = "M", hidden = true)
    String oldModeOption;

    /** Rejects impossible parameters as usage errors (exit code 2) before anything starts. */
    void validate() {
        if (oldModeOption != null) {
            database.capture = oldModeOption;
        }
        database.validate();
        if (rate < 0) {
            throw usage("--rate must be 0 (as fast as possible) or more rows per second, got " + rate);
        }
        if (duration.isZero()) {
            throw usage("--duration must be longer than 0s");
        }
        if (writers < 1 || writers > MAX_WRITERS) {
            throw usage("--writers must be between 1 and " + MAX_WRITERS + ", got " + writers);
        }
        if (batch < 1 || batch > 10_000) {
            throw usage("--batch must be between 1 and 10000, got " + batch);
        }
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /** The command line that repeats this run (the password never shows). */
    String commandLine() {
        return "bin/pgtrickle bench capture --rate " + rate + " --writers " + writers + " --batch " + batch
                + " --duration " + DurationText.format(duration) + " --warmup " + DurationText.format(warmup)
                + database.commandLineOptions();
    }

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println("pgtrickle bench capture: " + database.cdcMode + " capture under a steady insert load");
        out.println();
        out.println("machine     " + Machine.describe());
        out.println("command     " + commandLine());
        out.flush();
        try {
            return database.withEngine(err, Duration.ofSeconds(1), (engine, config, where) -> bench(engine, config,
                    where, out, err));
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
        out.println("load        " + (batch == 1 ? "single-row INSERTs" : batch + "-row INSERTs") + " into bench_events,"
                + " one transaction each; stream table bench_events_st (schedule calculated) is never refreshed");
        out.flush();
        CaptureOptions options = new CaptureOptions(rate, duration, warmup, writers, batch, config.slotName(),
                database.external());
        CaptureBench.Result r = new CaptureBench(engine, () -> ConnectionOptions.connect(config, "pgtrickle-bench"),
                options, line -> {
                    err.println(line);
                    err.flush();
                }).run();
        TextTable table = new TextTable(CaptureReport.HEADER, List.of(false, true, false));
        CaptureReport.rows(r, options).forEach(table::add);
        out.println();
        out.println(CaptureReport.title(options));
        out.print(table.render(""));
        out.println();
        out.println(CaptureReport.summary(r, options));
        out.flush();
        if (!r.complete()) {
            err.println("error: capture did not buffer " + r.missing() + " of the rows within "
                    + Figures.seconds(CaptureBench.DRAIN_TIMEOUT) + " after the load stopped; the figures cover the"
                    + " buffered rows only");
            return 1;
        }
        return 0;
    }
}
