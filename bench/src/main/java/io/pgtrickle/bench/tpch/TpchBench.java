package io.pgtrickle.bench.tpch;

import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.MultisetCheck;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.bench.StatementWatchdog;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.refresh.RefreshResult;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;

/**
 * Differential against full refresh on TPC-H. Loads the tables, then for every query makes a
 * DIFFERENTIAL stream table, a FULL stream table, a materialized view of the same text and
 * (unless turned off) an AUTO stream table. Each cycle applies one change batch
 * ({@link RefreshFunctions}), waits until change capture has buffered it (not timed), then per
 * query times the DIFFERENTIAL refresh, the FULL refresh, {@code REFRESH MATERIALIZED VIEW} and
 * the AUTO refresh (recording what AUTO chose), and checks every stream table against a fresh run
 * of the query (not timed). A failing query is recorded and the run goes on with the others.
 */
public final class TpchBench {
    /** How a cycle's error says that a refresh was not run because it timed out before. */
    static final String SKIPPED = "skipped: it timed out earlier";

    /** The application name of the engine's pooled connections, on which refreshes (and ours) run. */
    private static final String ENGINE_APPLICATION = "pgtrickle";

    private final PgTrickleEngine engine;
    private final TpchOptions options;
    private final Consumer<String> progress;
    private final StatementWatchdog watchdog;
    /** Stream tables and views whose refresh timed out: not refreshed again in this run. */
    private final Set<String> skipped = new HashSet<>();

    public TpchBench(PgTrickleEngine engine, TpchOptions options, Consumer<String> progress) {
        this.engine = engine;
        this.options = options;
        this.progress = progress;
        this.watchdog = new StatementWatchdog(engine.dataSource(), options.refreshTimeout());
    }

    /** Everything a run measured. */
    public record Results(double scale, long orders, List<QuerySetup> setups, List<CycleResult> cycles,
                          List<BatchResult> batches, double loadSeconds) {
    }

    /** One change batch: its size, what it changed, how long it took to write and to capture. */
    public record BatchResult(ChangeSize change, int cycle, RefreshFunctions.Batch rows, double writeMillis,
                              double captureMillis) {
    }

    public Results run() throws SQLException, IOException {
        try (watchdog; Connection c = engine.dataSource().getConnection()) {
            TpchFixture fixture = new TpchFixture(engine, progress);
            double loadSeconds = fixture.load(c, options.scale());
            List<QuerySetup> setups = new ArrayList<>();
            try {
                for (int number : options.queries()) {
                    setups.add(fixture.setUp(c, TpchQueries.query(number), options.auto()));
                }
                RefreshFunctions changes = RefreshFunctions.open(c, options.scale(), options.seed());
                long orders = changes.orderCount();
                List<CycleResult> cycles = new ArrayList<>();
                List<BatchResult> batches = new ArrayList<>();
                for (ChangeSize size : options.changes()) {
                    for (int cycle = 1; cycle <= options.cycles(); cycle++) {
                        batches.add(applyBatch(c, changes, size, cycle));
                        for (QuerySetup setup : setups) {
                            if (setup.usable()) {
                                cycles.add(measure(c, setup, size, cycle));
                            }
                        }
                    }
                }
                return new Results(options.scale(), orders, setups, cycles, batches, loadSeconds);
            } finally {
                if (options.dropAtEnd()) {
                    fixture.drop(c, setups);
                }
            }
        }
    }

    private BatchResult applyBatch(Connection c, RefreshFunctions changes, ChangeSize size, int cycle)
            throws SQLException {
        long start = System.nanoTime();
        RefreshFunctions.Batch batch = changes.apply(c, size);
        double writeMillis = (System.nanoTime() - start) / 1e6;
        long captureStart = System.nanoTime();
        awaitCapture(c);
        double captureMillis = (System.nanoTime() - captureStart) / 1e6;
        progress.accept(String.format(Locale.ROOT, "change %s, cycle %d/%d: +%d orders (+%d lineitems), -%d orders"
                        + " (-%d lineitems), %d orders updated (%d lineitems, %d customers); written in %s ms,"
                        + " captured %s ms later", size.label(), cycle, options.cycles(), batch.ordersInserted(),
                batch.lineItemsInserted(), batch.ordersDeleted(), batch.lineItemsDeleted(), batch.ordersUpdated(),
                batch.lineItemsUpdated(), batch.customersUpdated(), Figures.millis(writeMillis),
                Figures.millis(captureMillis)));
        return new BatchResult(size, cycle, batch, writeMillis, captureMillis);
    }

    /**
     * Waits until change capture has buffered everything committed so far, so the refreshes that
     * follow measure refreshing, not waiting for the WAL stream (trigger capture: at once).
     */
    private void awaitCapture(Connection c) throws SQLException {
        String lsn = Sql.value(c, String.class, "SELECT pg_current_wal_insert_lsn()::text");
        // A large batch (10 % at SF 1 is 2.4 million changes) takes capture longer than the engine's
        // barrier timeout: wait in rounds, up to CAPTURE_DEADLINE.
        long deadline = System.nanoTime() + CAPTURE_DEADLINE.toNanos();
        while (true) {
            try {
                engine.capture().awaitBuffered(engine.capture().sources().all(c), lsn);
                return;
            } catch (PgTrickleException e) {
                if (e.code() != ErrorCode.REFRESH_FAILED || System.nanoTime() > deadline) {
                    throw e;
                }
                progress.accept("capture still catching up with " + lsn + ": waiting on");
            }
        }
    }

    private static final java.time.Duration CAPTURE_DEADLINE = java.time.Duration.ofMinutes(15);

    /** A refresh of one kind (DIFFERENTIAL, FULL, materialized view, AUTO) of one query. */
    private enum Kind { DIFF, FULL, MV, AUTO }

    private CycleResult measure(Connection c, QuerySetup s, ChangeSize size, int cycle) {
        List<String> errors = new ArrayList<>();
        double diffMillis = Double.NaN;
        String diffAction = null;
        long diffRows = 0;
        if (s.differential()) {
            Timed<RefreshResult> r = timed(s, Kind.DIFF, errors, () -> engine.streamTables().refresh(s.diffTable()));
            if (r != null) {
                diffMillis = r.millis();
                diffAction = r.value().action();
                diffRows = r.value().rowsInserted() + r.value().rowsDeleted();
            }
        }
        Timed<RefreshResult> full = timed(s, Kind.FULL, errors, () -> engine.streamTables().refresh(s.fullTable()));
        double fullMillis = full == null ? Double.NaN : full.millis();
        Timed<Boolean> mv = timed(s, Kind.MV, errors, () -> {
            Sql.execute(c, "REFRESH MATERIALIZED VIEW " + s.materializedView());
            return Boolean.TRUE;
        });
        double mvMillis = mv == null ? Double.NaN : mv.millis();
        // Last, so it finds the cache as warm as the others found it, never warmer than FULL's.
        double autoMillis = Double.NaN;
        String autoAction = null;
        if (s.auto()) {
            Timed<RefreshResult> r = timed(s, Kind.AUTO, errors, () -> engine.streamTables().refresh(s.autoTable()));
            if (r != null) {
                autoMillis = r.millis();
                autoAction = r.value().action();
            }
        }
        boolean held = true;
        List<String> tables = new ArrayList<>();
        if (s.differential() && !skipped.contains(s.diffTable())) {
            tables.add(s.diffTable());
        }
        if (!skipped.contains(s.fullTable())) {
            tables.add(s.fullTable());
        }
        if (s.auto() && !skipped.contains(s.autoTable())) {
            tables.add(s.autoTable());
        }
        for (String table : tables) {
            try {
                long differing = MultisetCheck.differences(c, "public." + table, s.query().sql());
                if (differing != 0) {
                    held = false;
                    errors.add("invariant failed: " + table + " differs from its query by " + differing + " rows");
                }
            } catch (SQLException e) {
                held = false;
                errors.add("invariant check of " + table + " failed: " + e.getMessage());
            }
        }
        CycleResult r = new CycleResult(s.query().label(), size, cycle, diffMillis, diffAction, diffRows, fullMillis,
                mvMillis, autoMillis, autoAction, held, errors.isEmpty() ? null : String.join("; ", errors));
        progress.accept(String.format(Locale.ROOT, "  %-4s %-5s #%d  diff %8s ms%s  full %8s ms  mv %8s ms%s  %s",
                r.query(), size.label(), cycle, Figures.millis(diffMillis),
                diffAction == null || diffAction.equals("DIFFERENTIAL") ? "" : " (" + diffAction + ")",
                Figures.millis(fullMillis), Figures.millis(mvMillis), s.auto() ? autoLine(r) : "",
                r.error() == null ? "invariant held" : r.error()));
        return r;
    }

    /** The AUTO part of a cycle's progress line: time, choice, and ratio to the better of the other two. */
    private static String autoLine(CycleResult r) {
        double ratio = r.autoOverBest();
        return String.format(Locale.ROOT, "  auto %8s ms (%s, %s of the better%s)", Figures.millis(r.autoMillis()),
                r.autoAction() == null ? "n/a" : r.autoAction(), Figures.ratio(r.autoMillis(),
                        AutoComparison.best(r.diffMillis(), r.fullMillis())),
                AutoComparison.tooSlow(ratio) ? ", over " + AutoComparison.LIMIT + "x" : "");
    }

    /** A step that may fail with an SQL error. */
    private interface Step<T> {
        T run() throws SQLException;
    }

    /** A step's result and its wall-clock time. */
    private record Timed<T>(T value, double millis) {
    }

    /**
     * Runs one measured refresh under the watchdog; its result, or {@code null} after recording
     * why it failed, timed out, or was skipped (it timed out in an earlier cycle).
     */
    private <T> Timed<T> timed(QuerySetup s, Kind kind, List<String> errors, Step<T> step) {
        String object = switch (kind) {
            case DIFF -> s.diffTable();
            case FULL -> s.fullTable();
            case MV -> s.materializedView();
            case AUTO -> s.autoTable();
        };
        String what = switch (kind) {
            case DIFF -> "DIFFERENTIAL refresh";
            case FULL -> "FULL refresh";
            case MV -> "REFRESH MATERIALIZED VIEW";
            case AUTO -> "AUTO refresh";
        };
        if (skipped.contains(object)) {
            errors.add(what + " " + SKIPPED);
            return null;
        }
        try (StatementWatchdog.Guard guard = watchdog.guard(ENGINE_APPLICATION)) {
            long start = System.nanoTime();
            try {
                T result = step.run();
                return new Timed<>(result, (System.nanoTime() - start) / 1e6);
            } catch (SQLException | RuntimeException e) {
                if (guard.fired()) {
                    skipped.add(object);
                    errors.add(what + " timed out after " + Figures.seconds(watchdog.timeout())
                            + " and was cancelled; skipped from now on");
                } else {
                    errors.add(what + " failed: " + e.getMessage());
                }
                return null;
            }
        }
    }
}
