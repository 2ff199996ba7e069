package io.pgtrickle.bench.capture;

import io.pgtrickle.bench.ConnectionFactory;
import io.pgtrickle.bench.DurationText;
import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.Pacer;
import io.pgtrickle.bench.Quantiles;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * How fast and how promptly change capture buffers the rows of a steady insert load. Writers
 * insert into {@value CaptureSchema#TABLE}, whose stream table (schedule {@code calculated}) is
 * never refreshed, so the buffer keeps every change; the figures come from the buffer afterwards,
 * on the database's clock. Unpaced ({@code rate} 0) with multi-row transactions it shows the most
 * changes per second one slot sustains; paced, the commit-to-buffer latency at that rate.
 */
public final class CaptureBench {
    static final Duration CAPTURE_CONNECT_TIMEOUT = Duration.ofSeconds(60);
    /** Longest wait after the load for capture to buffer every row. */
    public static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(180);
    static final Duration PROGRESS_EVERY = Duration.ofSeconds(2);

    private final PgTrickleEngine engine;
    private final ConnectionFactory connections;
    private final CaptureOptions options;
    private final Consumer<String> progress;

    public CaptureBench(PgTrickleEngine engine, ConnectionFactory connections, CaptureOptions options,
                        Consumer<String> progress) {
        this.engine = engine;
        this.connections = connections;
        this.options = options;
        this.progress = progress;
    }

    /**
     * What a run measured.
     *
     * @param mode the capture mode the table was tracked with
     * @param roundTrips insert round trips as the writers saw their commits
     * @param drain from the load's end to the last row buffered; null when capture did not catch up
     * @param missing rows written but not buffered within {@link #DRAIN_TIMEOUT}
     */
    public record Result(CdcMode mode, CaptureStats stats, Quantiles roundTrips, Duration drain, long missing) {
        public boolean complete() {
            return missing <= 0;
        }
    }

    public Result run() throws Exception {
        try (Connection c = engine.dataSource().getConnection()) {
            CdcMode mode = prepare(c);
            try {
                engine.start();
                return measure(c, mode);
            } finally {
                if (options.dropAtEnd()) {
                    drop(c);
                }
            }
        }
    }

    /** Creates the table and its stream table, after removing what an interrupted run left. */
    private CdcMode prepare(Connection c) throws SQLException {
        switch (CaptureSchema.existing(c)) {
            case FOREIGN -> throw new PgTrickleException(ErrorCode.NAME_TAKEN, "table public." + CaptureSchema.TABLE
                    + " exists and was not made by bench capture; run the benchmark in a database of its own");
            case OURS -> drop(c);
            case NONE -> {
            }
        }
        CaptureSchema.createTable(c);
        engine.streamTables().create(StreamTableSpec.of(CaptureSchema.STREAM_TABLE, CaptureSchema.DEFINING_QUERY)
                .withSchedule("calculated"));
        String tracked = Sql.value(c, String.class, "SELECT cdc_mode FROM pgtrickle.pgt_change_sources"
                + " WHERE source_relid = to_regclass(?)", "public." + CaptureSchema.TABLE);
        return CdcMode.valueOf(tracked);
    }

    private void drop(Connection c) throws SQLException {
        QualifiedName name = QualifiedName.parse(CaptureSchema.STREAM_TABLE);
        if (engine.streamTables().find(name).isPresent()) {
            engine.streamTables().drop(name, false);
        }
        CaptureSchema.dropTable(c);
    }

    private Result measure(Connection c, CdcMode mode) throws Exception {
        String buffer = CaptureSchema.bufferTable(c);
        if (mode == CdcMode.WAL) {
            awaitSlotActive(c);
        }
        Duration length = options.warmup().plus(options.duration());
        long txRate = options.transactionRate();
        progress.accept("load: " + (options.warmup().isZero() ? "" : DurationText.format(options.warmup())
                + " warm-up, then ") + DurationText.format(options.duration()) + " measured; " + options.writers()
                + " writers, " + options.batch() + " row(s) per transaction, " + (txRate == 0 ? "as fast as they can"
                : "target " + options.rate() + " rows/s, "
                        + Pacer.plannedRows(length, txRate, options.writers()) * options.batch() + " rows planned"));
        try (InsertLoad load = InsertLoad.open(connections, options.writers(), CaptureSchema.insert(options.batch()))) {
            OffsetDateTime measureFrom = CaptureSchema.now(c).plus(options.warmup());
            long startNanos = System.nanoTime();
            load.start(startNanos, length, txRate, startNanos + options.warmup().toNanos());

            long nextProgress = startNanos + PROGRESS_EVERY.toNanos();
            while (!load.await(Duration.ofNanos(Math.max(1, nextProgress - System.nanoTime())))) {
                progress(startNanos, load.written(), CaptureSchema.rowsBuffered(c, buffer), "");
                nextProgress += PROGRESS_EVERY.toNanos();
            }
            long loadEnd = System.nanoTime();
            OffsetDateTime dbLoadEnd = CaptureSchema.now(c);
            Optional<Throwable> failure = load.failure();
            if (failure.isPresent()) {
                throw new PgTrickleException(ErrorCode.INTERNAL, "a writer failed: " + failure.get().getMessage(),
                        failure.get());
            }
            long written = CaptureSchema.rowsWritten(c);
            long buffered = CaptureSchema.rowsBuffered(c, buffer);
            long bufferedAtLoadEnd = buffered;
            progress(startNanos, written, buffered, "  load stopped; waiting for capture to buffer every row");
            long drainDeadline = loadEnd + DRAIN_TIMEOUT.toNanos();
            nextProgress = System.nanoTime() + PROGRESS_EVERY.toNanos();
            while (buffered < written && System.nanoTime() < drainDeadline) {
                Thread.sleep(50);
                buffered = CaptureSchema.rowsBuffered(c, buffer);
                if (System.nanoTime() >= nextProgress) {
                    progress(startNanos, written, buffered, "");
                    nextProgress += PROGRESS_EVERY.toNanos();
                }
            }
            long missing = written - buffered;
            // From the database's clock: when the last row reached the buffer, after the writers stopped.
            OffsetDateTime lastCaptured = CaptureSchema.lastCapturedAt(c, buffer);
            Duration drain = lastCaptured == null || lastCaptured.isBefore(dbLoadEnd) ? Duration.ZERO
                    : Duration.between(dbLoadEnd, lastCaptured);
            if (missing <= 0) {
                progress.accept("all " + written + " rows buffered, the last one "
                        + Figures.millis(drain.toNanos() / 1e6) + " ms after the load stopped");
                long backlog = written - bufferedAtLoadEnd;
                if (backlog > 0 && drain.toMillis() >= 1000) {
                    // With the writers stopped, capture has the machine to itself: on a small machine
                    // this is the slot's own throughput, which the writers' CPU use hides during the load.
                    progress.accept("capture alone: the last " + backlog + " rows drained at "
                            + Figures.rate(backlog / (drain.toNanos() / 1e9)) + " changes/s");
                }
            }
            return new Result(mode, CaptureStats.measure(c, buffer, measureFrom), load.roundTrips(),
                    missing <= 0 ? drain : null, Math.max(0, missing));
        }
    }

    private void progress(long startNanos, long written, long buffered, String note) {
        progress.accept(String.format(Locale.ROOT, "%7.1fs  written %9d  buffered %9d%s",
                (System.nanoTime() - startNanos) / 1e9, written, buffered, note));
    }

    /** Waits until WAL capture streams from the slot, so the load does not measure its start-up. */
    private void awaitSlotActive(Connection c) throws Exception {
        long started = System.nanoTime();
        long deadline = started + CAPTURE_CONNECT_TIMEOUT.toNanos();
        while (!Boolean.TRUE.equals(Sql.value(c, Boolean.class, "SELECT active FROM pg_replication_slots"
                + " WHERE slot_name = ?", options.slotName()))) {
            if (System.nanoTime() > deadline) {
                throw new PgTrickleException(ErrorCode.INTERNAL, "WAL capture did not start streaming from slot "
                        + options.slotName() + " within " + Figures.seconds(CAPTURE_CONNECT_TIMEOUT)
                        + " (run with -v to see why)");
            }
            Thread.sleep(50);
        }
        progress.accept("WAL capture streaming from slot " + options.slotName() + " after "
                + Figures.seconds(Duration.ofMillis((System.nanoTime() - started) / 1_000_000)));
    }
}
