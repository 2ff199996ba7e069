package io.pgtrickle.cli;

import io.pgtrickle.cli.bench.BenchSchema;
import io.pgtrickle.cli.bench.CaptureStats;
import io.pgtrickle.cli.bench.DurationText;
import io.pgtrickle.cli.bench.InsertLoad;
import io.pgtrickle.cli.bench.LatencySamples;
import io.pgtrickle.cli.bench.Pacer;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.error.SqlErrors;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.sql.QualifiedName;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code pgtrickle bench-capture}: how fast and how promptly change capture buffers the rows of a
 * steady insert load. A benchmark, not a test: it prints figures, and fails only when it cannot
 * measure (a writer fails, or capture does not catch up).
 */
@Command(name = "bench-capture", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "Benchmark change capture: writers insert single rows (one transaction each) into a table at a steady"
                    + " rate while the engine captures them into the change buffer; then it prints the write rate"
                    + " achieved, the changes per second that reached the buffer, and the commit-to-buffer latency"
                    + " (p50, p95, p99, max).",
            "",
            "Setup: the engine runs with the capture mode of --mode; the table bench_events (id bigserial,"
                    + " payload text, written_at timestamptz DEFAULT clock_timestamp()) gets a stream table"
                    + " bench_events_st with schedule 'calculated', which is never refreshed, so the buffer keeps"
                    + " every change.",
            "Measurement, on the database's clock, over the rows written after the warm-up: latency is a buffer"
                    + " row's captured_at minus the row's written_at (set by its INSERT, just before the commit);"
                    + " ingest rate is rows / (last captured_at - first written_at); write rate is rows / --duration."
                    + " With --mode trigger the buffer is written inside the INSERT's transaction, so the latency is"
                    + " the trigger's own time, and its cost shows in the insert round trip instead (client clock).",
            "",
            "Without --jdbc-url it starts a throw-away PostgreSQL 18 on a temporary data directory, durable like"
                    + " the one of 'pgtrickle run' (fsync on, synchronous_commit on), and removes it afterwards."
                    + " With --jdbc-url, use a database of its own: the run creates bench_events and bench_events_st"
                    + " and drops them at the end (and the replication slot, if it created it); it refuses to run"
                    + " while another engine runs against the database.",
            ""},
        footer = {"", "Examples:",
            "  pgtrickle bench-capture",
            "  pgtrickle bench-capture --mode trigger --rate 0 --writers 8 --duration 1m",
            "",
            "Exit code 0 when the figures were measured; 1 when a writer failed or capture did not buffer every row"
                    + " within 60 s of the load's end (the figures printed then cover the buffered rows only)."})
final class BenchCaptureCommand implements Callable<Integer> {
    static final Duration CAPTURE_CONNECT_TIMEOUT = Duration.ofSeconds(60);
    static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(60);
    static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);
    static final int MAX_WRITERS = 64;

    @Option(names = "--rate", paramLabel = "N", defaultValue = "1000",
            description = "Target rows per second across all writers; 0 = as fast as the writers can. Default:"
                    + " ${DEFAULT-VALUE}.")
    long rate;

    @Option(names = "--duration", paramLabel = "D", defaultValue = "20s", converter = DurationText.Converter.class,
            description = "How long the measured load runs after the warm-up, such as 20s, 1m or 1m30s."
                    + " Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(names = "--writers", paramLabel = "N", defaultValue = "4",
            description = "Writer threads, one connection each. Default: ${DEFAULT-VALUE}.")
    int writers;

    @Option(names = "--mode", paramLabel = "M", defaultValue = "wal",
            description = "Capture mode: wal (logical decoding through the replication slot) or trigger. Default:"
                    + " ${DEFAULT-VALUE}.")
    String mode;

    @Option(names = "--warmup", paramLabel = "D", defaultValue = "3s", converter = DurationText.Converter.class,
            description = "Load before the measurement starts, not measured; 0s for none. Default: ${DEFAULT-VALUE}.")
    Duration warmup;

    @Option(names = "--jdbc-url", paramLabel = "URL", defaultValue = "${env:PGTRICKLE_JDBC_URL}",
            description = "PostgreSQL to use (env PGTRICKLE_JDBC_URL), best a database of its own, e.g."
                    + " jdbc:postgresql://localhost:5432/bench. Without it, a temporary PostgreSQL 18 is started for"
                    + " this run. The password is read from env " + ConnectionOptions.PASSWORD_VARIABLE + " only.")
    String jdbcUrl;

    @Option(names = "--user", paramLabel = "NAME", defaultValue = "${env:PGTRICKLE_USER}",
            description = ConnectionOptions.USER_HELP)
    String user;

    @Option(names = "--slot-name", paramLabel = "NAME", defaultValue = "${env:PGTRICKLE_SLOT_NAME}",
            description = ConnectionOptions.SLOT_NAME_HELP)
    String slotName;

    @Spec
    CommandSpec spec;

    CdcMode cdcMode;
    /** Whether this run created bench_events, and so drops it and its stream table from a lasting database. */
    private boolean createdTable;

    /** Rejects impossible parameters as usage errors (exit code 2) before anything starts. */
    void validate() {
        ConnectionOptions.validateDatabase(spec.commandLine(), jdbcUrl, slotName);
        if (rate < 0) {
            throw usage("--rate must be 0 (as fast as possible) or more rows per second, got " + rate);
        }
        if (duration.isZero()) {
            throw usage("--duration must be longer than 0s");
        }
        if (writers < 1 || writers > MAX_WRITERS) {
            throw usage("--writers must be between 1 and " + MAX_WRITERS + ", got " + writers);
        }
        cdcMode = switch (mode.strip().toLowerCase(Locale.ROOT)) {
            case "wal" -> CdcMode.WAL;
            case "trigger" -> CdcMode.TRIGGER;
            default -> throw usage("--mode must be wal or trigger, got " + mode);
        };
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    private boolean external() {
        return jdbcUrl != null && !jdbcUrl.isBlank();
    }

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            out.println("pgtrickle bench-capture: " + cdcMode + " capture under a steady insert load");
            out.println();
            out.println("machine     " + machine());
            out.println("command     " + commandLine());
            out.flush();
            try (LocalServer server = external() ? null : LocalServer.startTemporaryDurable(err)) {
                String url = server == null ? jdbcUrl : server.jdbcUrl();
                EngineConfig config = ConnectionOptions.engineConfig(url, user, slotName).withCdcMode(cdcMode);
                return bench(config, server == null ? "at " + config.redactedUrl()
                        : "embedded, temporary data directory", out, err);
            }
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int bench(EngineConfig config, String where, PrintWriter out, PrintWriter err) throws Exception {
        boolean slotExisted = cdcMode != CdcMode.WAL || slotExists(config);
        try (PgTrickleEngine engine = PgTrickleEngine.open(config);
             Connection c = engine.dataSource().getConnection()) {
            out.println("server      " + server(c) + ", " + where);
            out.println("load        single-row INSERTs into " + BenchSchema.TABLE + ", one transaction each; stream"
                    + " table " + BenchSchema.STREAM_TABLE + " (schedule calculated) is never refreshed");
            out.flush();
            engine.start();
            try {
                prepare(engine, c);
                return measure(engine, config, c, out, err);
            } finally {
                if (external() && createdTable) {
                    cleanUp(engine, c, err);
                }
            }
        } catch (SQLException e) {
            throw SqlErrors.translate("benchmark failed", e);
        } finally {
            if (!slotExisted) {
                dropSlot(config, err);
            }
        }
    }

    /** Creates the table and its stream table, after removing what an interrupted run left. */
    private void prepare(PgTrickleEngine engine, Connection c) throws SQLException {
        switch (BenchSchema.existing(c)) {
            case FOREIGN -> throw new PgTrickleException(ErrorCode.NAME_TAKEN, "table public." + BenchSchema.TABLE
                    + " exists and was not made by bench-capture; run the benchmark in a database of its own");
            case OURS -> {
                dropStreamTable(engine);
                BenchSchema.dropTable(c);
            }
            case NONE -> {
            }
        }
        BenchSchema.createTable(c);
        createdTable = true;
        engine.streamTables().create(StreamTableSpec.of(BenchSchema.STREAM_TABLE, BenchSchema.DEFINING_QUERY)
                .withSchedule("calculated"));
        String tracked = queryString(c, "SELECT cdc_mode FROM pgtrickle.pgt_change_sources WHERE source_relid"
                + " = 'public." + BenchSchema.TABLE + "'::regclass");
        if (!cdcMode.name().equals(tracked)) {
            throw new PgTrickleException(ErrorCode.INTERNAL, BenchSchema.TABLE + " is captured by " + tracked
                    + ", not " + cdcMode);
        }
    }

    private static void dropStreamTable(PgTrickleEngine engine) {
        QualifiedName name = QualifiedName.parse(BenchSchema.STREAM_TABLE);
        if (engine.streamTables().find(name).isPresent()) {
            engine.streamTables().drop(name, false);
        }
    }

    private int measure(PgTrickleEngine engine, EngineConfig config, Connection c, PrintWriter out, PrintWriter err)
            throws Exception {
        String buffer = BenchSchema.bufferTable(c);
        if (cdcMode == CdcMode.WAL) {
            awaitSlotActive(c, config.slotName(), err);
        }
        Duration length = warmup.plus(duration);
        err.println("load: " + (warmup.isZero() ? "" : DurationText.format(warmup) + " warm-up, then ")
                + DurationText.format(duration) + " measured; " + writers + " writers, "
                + (rate == 0 ? "as fast as they can" : "target " + rate + " rows/s, "
                        + Pacer.plannedRows(length, rate, writers) + " rows planned"));
        err.flush();

        CaptureStats stats;
        LatencySamples roundTrips;
        Duration drain;
        long missing;
        try (InsertLoad load = InsertLoad.open(() -> ConnectionOptions.connect(config, "pgtrickle-bench"), writers,
                BenchSchema.INSERT)) {
            OffsetDateTime dbStart = BenchSchema.now(c);
            long startNanos = System.nanoTime();
            OffsetDateTime measureFrom = dbStart.plus(warmup);
            load.start(startNanos, length, rate, startNanos + warmup.toNanos());

            long nextProgress = startNanos + PROGRESS_EVERY.toNanos();
            while (!load.await(Duration.ofNanos(Math.max(1, nextProgress - System.nanoTime())))) {
                progress(err, startNanos, load.written(), BenchSchema.rowsBuffered(c, buffer), "");
                nextProgress += PROGRESS_EVERY.toNanos();
            }
            long loadEnd = System.nanoTime();
            OffsetDateTime dbLoadEnd = BenchSchema.now(c);
            Optional<Throwable> failure = load.failure();
            if (failure.isPresent()) {
                throw new PgTrickleException(ErrorCode.INTERNAL, "a writer failed: " + failure.get().getMessage(),
                        failure.get());
            }
            roundTrips = load.roundTrips();

            long written = BenchSchema.rowsWritten(c);
            long buffered = BenchSchema.rowsBuffered(c, buffer);
            progress(err, startNanos, written, buffered, "  load stopped; waiting for capture to buffer every row");
            long drainDeadline = loadEnd + DRAIN_TIMEOUT.toNanos();
            nextProgress = System.nanoTime() + PROGRESS_EVERY.toNanos();
            while (buffered < written && System.nanoTime() < drainDeadline) {
                Thread.sleep(50);
                buffered = BenchSchema.rowsBuffered(c, buffer);
                if (System.nanoTime() >= nextProgress) {
                    progress(err, startNanos, written, buffered, "");
                    nextProgress += PROGRESS_EVERY.toNanos();
                }
            }
            missing = written - buffered;
            // From the database's clock: when the last row reached the buffer, after the writers stopped.
            OffsetDateTime lastCaptured = BenchSchema.lastCapturedAt(c, buffer);
            drain = lastCaptured == null || lastCaptured.isBefore(dbLoadEnd) ? Duration.ZERO
                    : Duration.between(dbLoadEnd, lastCaptured);
            if (missing <= 0) {
                err.println("all " + written + " rows buffered, the last one " + millis(drain.toNanos() / 1e9)
                        + " ms after the load stopped");
            }
            err.flush();
            stats = CaptureStats.measure(c, buffer, measureFrom);
        }

        report(out, stats, roundTrips, missing <= 0 ? drain : null);
        if (missing > 0) {
            err.println("error: capture did not buffer " + missing + " of the rows within "
                    + Formats.seconds(DRAIN_TIMEOUT) + " after the load stopped; the figures cover the buffered"
                    + " rows only");
            return 1;
        }
        return 0;
    }

    private static void progress(PrintWriter err, long startNanos, long written, long buffered, String note) {
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        err.println(String.format(Locale.ROOT, "%7.1fs  written %9d  buffered %9d%s", elapsed, written, buffered,
                note));
        err.flush();
    }

    /** Waits until WAL capture streams from the slot, so the load does not measure its start-up. */
    private static void awaitSlotActive(Connection c, String slot, PrintWriter err) throws Exception {
        long started = System.nanoTime();
        long deadline = started + CAPTURE_CONNECT_TIMEOUT.toNanos();
        err.print("waiting for WAL capture to stream from slot " + slot + " ...");
        err.flush();
        while (!"true".equals(queryString(c, "SELECT active::text FROM pg_replication_slots WHERE slot_name = '"
                + slot + "'"))) {
            if (System.nanoTime() > deadline) {
                err.println(" timed out");
                throw new PgTrickleException(ErrorCode.INTERNAL, "WAL capture did not start streaming from slot "
                        + slot + " within " + Formats.seconds(CAPTURE_CONNECT_TIMEOUT) + " (run with -v to see why)");
            }
            Thread.sleep(50);
        }
        err.println(" streaming after " + Formats.seconds(Duration.ofNanos(System.nanoTime() - started)));
        err.flush();
    }

    private void report(PrintWriter out, CaptureStats s, LatencySamples roundTrips, Duration drain) {
        double seconds = duration.toNanos() / 1e9;
        double writeRate = s.rowsWritten() / seconds;
        TextTable table = new TextTable(List.of("figure", "value", "unit"), List.of(false, true, false));
        table.add(List.of("rows written", Long.toString(s.rowsWritten()), "rows"));
        table.add(List.of("rows buffered", Long.toString(s.rowsBuffered()), "rows"));
        table.add(List.of("write rate", rate(writeRate),
                "rows/s (target " + (rate == 0 ? "as fast as possible" : Long.toString(rate)) + ")"));
        table.add(List.of("ingest rate", rate(s.ingestRate()), "changes/s into the buffer"));
        table.add(List.of("latency p50", millis(s.p50()), "ms, " + (cdcMode == CdcMode.WAL ? "commit to buffer"
                : "insert to buffer, inside the insert's transaction")));
        table.add(List.of("latency p95", millis(s.p95()), "ms"));
        table.add(List.of("latency p99", millis(s.p99()), "ms"));
        table.add(List.of("latency max", millis(s.max()), "ms"));
        table.add(List.of("insert round trip p50", millis(roundTrips.percentileNanos(0.50) / 1e9),
                "ms, as the writers saw their commits"));
        table.add(List.of("insert round trip p99", millis(roundTrips.percentileNanos(0.99) / 1e9), "ms"));
        if (drain != null) {
            table.add(List.of("caught up", millis(drain.toNanos() / 1e9), "ms after the load stopped"));
        }
        out.println();
        out.println("results: " + (warmup.isZero() ? "all rows" : "rows written after the "
                + DurationText.format(warmup) + " warm-up") + ", over " + DurationText.format(duration));
        out.print(table.render(""));
        out.println();
        out.println(String.format(Locale.ROOT, "summary: %s capture, %d writers, target %s, %s: %s rows written at %s"
                        + " rows/s, %s changes/s buffered, %s latency p50 %s ms, p95 %s ms, p99 %s ms,"
                        + " max %s ms", cdcMode, writers, rate == 0 ? "as fast as possible" : rate + " rows/s",
                DurationText.format(duration), s.rowsWritten(), rate(writeRate), rate(s.ingestRate()),
                cdcMode == CdcMode.WAL ? "commit-to-buffer" : "insert-to-buffer",
                millis(s.p50()), millis(s.p95()), millis(s.p99()), millis(s.max())));
        out.flush();
    }

    /** A rate to one decimal; "n/a" when there is none. */
    static String rate(double perSecond) {
        return Double.isNaN(perSecond) ? "n/a" : String.format(Locale.ROOT, "%.1f", perSecond);
    }

    /** Seconds as milliseconds, with three significant digits or more: 0.052, 1.23, 12.3, 123. */
    static String millis(double seconds) {
        if (Double.isNaN(seconds)) {
            return "n/a";
        }
        double ms = seconds * 1000;
        String format = ms < 1 ? "%.3f" : ms < 10 ? "%.2f" : ms < 100 ? "%.1f" : "%.0f";
        return String.format(Locale.ROOT, format, ms);
    }

    /** The command line that repeats this run (the password never shows). */
    String commandLine() {
        StringBuilder s = new StringBuilder("bin/pgtrickle bench-capture --mode ").append(mode.toLowerCase(Locale.ROOT))
                .append(" --rate ").append(rate).append(" --writers ").append(writers)
                .append(" --duration ").append(DurationText.format(duration))
                .append(" --warmup ").append(DurationText.format(warmup));
        if (external()) {
            s.append(" --jdbc-url ").append(ConnectionOptions.redact(jdbcUrl));
        }
        return s.toString();
    }

    /** CPUs, CPU model, operating system and Java, for figures pasted into documents. */
    static String machine() {
        String cpu = cpuModel().map(m -> ", " + m).orElse("");
        return Runtime.getRuntime().availableProcessors() + " CPUs (nproc)" + cpu + "; "
                + System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
                + System.getProperty("os.arch") + "; Java " + Runtime.version() + " ("
                + System.getProperty("java.vm.name") + ", " + System.getProperty("java.vendor") + ")";
    }

    private static Optional<String> cpuModel() {
        Path cpuinfo = Path.of("/proc/cpuinfo");
        if (!Files.isReadable(cpuinfo)) {
            return Optional.empty();
        }
        try (Stream<String> lines = Files.lines(cpuinfo)) {
            return lines.filter(l -> l.startsWith("model name")).findFirst()
                    .map(l -> l.substring(l.indexOf(':') + 1).strip().replaceAll("\\s+", " "));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    private static String server(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_setting('server_version'),"
                + " current_setting('fsync'), current_setting('synchronous_commit'), current_setting('wal_level')")) {
            rs.next();
            return "PostgreSQL " + rs.getString(1).replaceAll("\\s.*", "") + " (fsync " + rs.getString(2)
                    + ", synchronous_commit " + rs.getString(3) + ", wal_level " + rs.getString(4) + ")";
        }
    }

    private static String queryString(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static boolean slotExists(EngineConfig config) throws SQLException {
        try (Connection c = ConnectionOptions.connect(config, "pgtrickle-bench");
             PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM pg_replication_slots"
                     + " WHERE slot_name = ?)")) {
            ps.setString(1, config.slotName());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        } catch (SQLException e) {
            throw new PgTrickleException(ErrorCode.CONNECTION_FAILED, "cannot connect to " + config.redactedUrl()
                    + ": " + e.getMessage(), e);
        }
    }

    /** Drops the benchmark's objects from a database that outlives the run. */
    private static void cleanUp(PgTrickleEngine engine, Connection c, PrintWriter err) {
        try {
            dropStreamTable(engine);
            BenchSchema.dropTable(c);
        } catch (SQLException | RuntimeException e) {
            err.println("warning: could not drop " + BenchSchema.STREAM_TABLE + " and " + BenchSchema.TABLE + ": "
                    + e.getMessage());
        }
    }

    /**
     * Drops the replication slot this run created, once the engine let go of it, unless WAL capture
     * of other sources now relies on it: a slot nobody reads keeps WAL forever.
     */
    private void dropSlot(EngineConfig config, PrintWriter err) {
        if (external()) {
            BenchDatabaseOptions.dropSlot(config, err);
        }
    }
}
