package io.pgtrickle.bench.idle;

import io.pgtrickle.bench.Charts;
import io.pgtrickle.bench.Csv;
import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.Quantiles;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.bench.StatementWatchdog;
import io.pgtrickle.bench.tpch.QuerySetup;
import io.pgtrickle.bench.tpch.TpchFixture;
import io.pgtrickle.bench.tpch.TpchQueries;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.Catalog;
import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.lifecycle.SourceChangeHandler;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.refresh.RefreshResult;
import io.pgtrickle.core.refresh.Refresher;
import io.pgtrickle.core.refresh.RetryPolicy;
import io.pgtrickle.core.schedule.Scheduler;
import io.pgtrickle.core.sql.QualifiedName;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * The cost of doing nothing. Part one: per TPC-H query, refreshes of its DIFFERENTIAL and FULL
 * stream tables (and REFRESH MATERIALIZED VIEW, for scale) when no source changed since the last
 * refresh. Part two: the engine's scheduler pass with {@code n} idle stream tables, first when
 * none is due (the cost of looking), then when all are due but nothing changed (the cost of
 * {@code n} empty refreshes in one tick). The pass is the engine's own {@link Scheduler#runOnce},
 * with the engine's housekeeping, called directly so that each tick can be timed.
 */
public final class IdleBench {
    static final String SOURCE = "idle_source";
    static final String PREFIX = "idle_st_";

    private final PgTrickleEngine engine;
    private final IdleOptions options;
    private final Consumer<String> progress;
    private final StatementWatchdog watchdog;

    public IdleBench(PgTrickleEngine engine, IdleOptions options, Consumer<String> progress) {
        this.engine = engine;
        this.options = options;
        this.progress = progress;
        this.watchdog = new StatementWatchdog(engine.dataSource(), options.refreshTimeout());
    }

    /** No-change refresh times of one query's objects; a quantile set is empty when not measured. */
    public record QueryIdle(QuerySetup setup, Quantiles diff, Quantiles full, Quantiles mv, long rowsChanged,
                            String error) {
    }

    /** Scheduler ticks: none due, and all due with nothing changed. */
    public record Ticks(int streamTables, Quantiles noneDue, Quantiles allDue, Quantiles tiered, double tieredChecked,
                        String error) {
        /** Median cost per stream table of a tick where all are due. */
        public double perStreamTableMillis() {
            return allDue.medianMillis() / streamTables;
        }
    }

    public record Results(List<QueryIdle> queries, Ticks ticks, double loadSeconds) {
    }

    public Results run() throws SQLException, IOException {
        TpchFixture fixture = new TpchFixture(engine, progress);
        try (watchdog; Connection c = engine.dataSource().getConnection()) {
            double loadSeconds = fixture.load(c, options.scale());
            List<QuerySetup> setups = new ArrayList<>();
            try {
                for (int n : options.queries()) {
                    setups.add(fixture.setUp(c, TpchQueries.query(n)));
                }
                List<QueryIdle> queries = new ArrayList<>();
                for (QuerySetup s : setups) {
                    if (s.usable()) {
                        queries.add(measure(c, s));
                    }
                }
                // The tick is measured with the idle stream tables alone in the catalog.
                fixture.drop(c, setups);
                setups.clear();
                Ticks ticks = ticks(c);
                return new Results(queries, ticks, loadSeconds);
            } finally {
                fixture.drop(c, setups);
                if (options.dropAtEnd()) {
                    dropIdle(c);
                }
            }
        }
    }

    private QueryIdle measure(Connection c, QuerySetup s) {
        long[] diff = new long[s.differential() ? options.repeats() : 0];
        long[] full = new long[options.repeats()];
        long[] mv = new long[options.repeats()];
        long rows = 0;
        StatementWatchdog.Guard guard = watchdog.guard("pgtrickle");
        try {
            // One refresh first, so the measured ones start from a consumed change window.
            if (s.differential()) {
                engine.streamTables().refresh(s.diffTable());
            }
            engine.streamTables().refresh(s.fullTable());
            for (int i = 0; i < options.repeats(); i++) {
                if (s.differential()) {
                    long start = System.nanoTime();
                    RefreshResult r = engine.streamTables().refresh(s.diffTable());
                    diff[i] = System.nanoTime() - start;
                    rows += r.rowsInserted() + r.rowsDeleted();
                }
                long start = System.nanoTime();
                RefreshResult r = engine.streamTables().refresh(s.fullTable());
                full[i] = System.nanoTime() - start;
                rows += r.rowsInserted() + r.rowsDeleted();
                start = System.nanoTime();
                Sql.execute(c, "REFRESH MATERIALIZED VIEW " + s.materializedView());
                mv[i] = System.nanoTime() - start;
            }
        } catch (SQLException | RuntimeException e) {
            String error = guard.fired() ? "timed out after " + Figures.seconds(options.refreshTimeout())
                    + " and was cancelled" : e.getMessage();
            progress.accept(s.query().label() + ": " + error);
            return new QueryIdle(s, Quantiles.of(), Quantiles.of(), Quantiles.of(), rows, error);
        } finally {
            guard.close();
        }
        QueryIdle q = new QueryIdle(s, Quantiles.of(diff), Quantiles.of(full), Quantiles.of(mv), rows, null);
        progress.accept(String.format(Locale.ROOT, "  %-4s no change: diff %s ms, full %s ms, mv %s ms (medians of %d)",
                s.query().label(), Figures.millis(q.diff().medianMillis()), Figures.millis(q.full().medianMillis()),
                Figures.millis(q.mv().medianMillis()), options.repeats()));
        return q;
    }

    /** Creates the idle stream tables and times scheduler passes over them. */
    private Ticks ticks(Connection c) throws SQLException {
        int n = options.idleStreamTables();
        dropIdle(c);
        Sql.execute(c, "CREATE TABLE " + SOURCE + " (id integer PRIMARY KEY, grp integer NOT NULL, val numeric NOT NULL)",
                "INSERT INTO " + SOURCE + " SELECT i, i % 50, i * 0.5 FROM generate_series(1, 10000) i",
                "ANALYZE " + SOURCE);
        progress.accept("creating " + n + " idle stream tables over " + SOURCE);
        for (int i = 0; i < n; i++) {
            // Distinct queries, so no two stream tables share a plan by accident.
            engine.streamTables().create(StreamTableSpec.parse(name(i), "SELECT grp, count(*) AS n, sum(val) AS total"
                    + " FROM " + SOURCE + " WHERE id % " + n + " = " + i + " GROUP BY grp", "1h", "DIFFERENTIAL"));
        }
        Scheduler scheduler = scheduler(engine.dataSource());
        try {
            scheduler.runOnce();
            long[] noneDue = new long[options.repeats()];
            for (int i = 0; i < noneDue.length; i++) {
                long start = System.nanoTime();
                List<Long> refreshed = scheduler.runOnce();
                noneDue[i] = System.nanoTime() - start;
                if (!refreshed.isEmpty()) {
                    throw new IllegalStateException(refreshed.size() + " idle stream tables were due; expected none");
                }
            }
            progress.accept(String.format(Locale.ROOT, "  tick with %d stream tables, none due: %s ms (median of %d)",
                    n, Figures.millis(Quantiles.of(noneDue).medianMillis()), noneDue.length));
            for (int i = 0; i < n; i++) {
                engine.streamTables().alter(name(i), AlterSpec.none().withSchedule("100ms"));
            }
            long[] allDue = new long[options.repeats()];
            for (int i = 0; i < allDue.length; i++) {
                Thread.sleep(150);
                long start = System.nanoTime();
                List<Long> refreshed = scheduler.runOnce();
                allDue[i] = System.nanoTime() - start;
                if (refreshed.size() != n) {
                    throw new IllegalStateException(refreshed.size() + " of " + n + " stream tables refreshed in a"
                            + " tick where all were due");
                }
            }
            progress.accept(String.format(Locale.ROOT, "  tick with %d stream tables, all due, nothing changed: %s ms"
                    + " (median of %d)", n, Figures.millis(Quantiles.of(allDue).medianMillis()), allDue.length));
            // Tiers: after 8 idle checks a stream table is checked every 4th time it is due. The
            // ticks above gave every stream table its idle checks; a few more reach the steady state.
            scheduler.setTiered(true);
            for (int i = allDue.length; i < Scheduler.COLD_AFTER_CHECKS; i++) {
                Thread.sleep(150);
                scheduler.runOnce();
            }
            long[] tiered = new long[options.repeats()];
            long checked = 0;
            for (int i = 0; i < tiered.length; i++) {
                Thread.sleep(150);
                long start = System.nanoTime();
                checked += scheduler.runOnce().size();
                tiered[i] = System.nanoTime() - start;
            }
            double perTick = (double) checked / tiered.length;
            progress.accept(String.format(Locale.ROOT, "  tick with %d stream tables, all due, nothing changed, tiered: %s ms,"
                    + " %.0f checked per tick (median of %d)", n, Figures.millis(Quantiles.of(tiered).medianMillis()), perTick,
                    tiered.length));
            return new Ticks(n, Quantiles.of(noneDue), Quantiles.of(allDue), Quantiles.of(tiered), perTick, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Ticks(n, Quantiles.of(), Quantiles.of(), Quantiles.of(), 0, "interrupted");
        } catch (RuntimeException e) {
            progress.accept("scheduler ticks: " + e.getMessage());
            return new Ticks(n, Quantiles.of(), Quantiles.of(), Quantiles.of(), 0, e.getMessage());
        }
    }

    /** The pass the engine's scheduler thread runs every tick, with the same housekeeping. */
    private Scheduler scheduler(DataSource ds) {
        Catalog catalog = new Catalog();
        Scheduler scheduler = new Scheduler(ds, catalog, new Refresher(ds, catalog, RetryPolicy.defaults(),
                engine.capture(), engine.serverCapabilities()), Duration.ofSeconds(1));
        scheduler.addHousekeeping(new SourceChangeHandler(ds, catalog, engine.streamTables(),
                engine.capture().sources())::handlePending);
        scheduler.addHousekeeping(engine.capture()::start);
        return scheduler;
    }

    private static String name(int i) {
        return String.format(Locale.ROOT, PREFIX + "%03d", i + 1);
    }

    private void dropIdle(Connection c) throws SQLException {
        for (var st : engine.streamTables().list()) {
            if (st.name().name().startsWith(PREFIX)) {
                engine.streamTables().drop(st.name(), false);
            }
        }
        Sql.execute(c, "DROP TABLE IF EXISTS " + SOURCE);
    }

    public static final List<String> HEADER = List.of("query", "mode", "diff median ms", "diff p95 ms",
            "full median ms", "full p95 ms", "mv median ms", "mv p95 ms", "rows changed");

    /** The printed rows of part one. */
    public static List<List<String>> rows(Results r) {
        List<List<String>> rows = new ArrayList<>();
        for (QueryIdle q : r.queries()) {
            rows.add(List.of(q.setup().query().label(), q.setup().mode(), Figures.millis(q.diff().medianMillis()),
                    Figures.millis(q.diff().p95Millis()), Figures.millis(q.full().medianMillis()),
                    Figures.millis(q.full().p95Millis()), Figures.millis(q.mv().medianMillis()),
                    Figures.millis(q.mv().p95Millis()), q.error() == null ? Long.toString(q.rowsChanged()) : "error"));
        }
        return rows;
    }

    /** Writes {@code idle-refresh.csv}, {@code idle-tick.csv} and {@code idle-refresh.png}. */
    public static List<Path> write(Results r, Path directory, double scale) throws IOException {
        Path refresh = directory.resolve("idle-refresh.csv");
        List<List<String>> rows = new ArrayList<>();
        for (QueryIdle q : r.queries()) {
            rows.add(List.of(q.setup().query().label(), q.setup().mode(), Figures.csv(q.diff().medianMillis()),
                    Figures.csv(q.diff().p95Millis()), Figures.csv(q.full().medianMillis()),
                    Figures.csv(q.full().p95Millis()), Figures.csv(q.mv().medianMillis()),
                    Figures.csv(q.mv().p95Millis()), Long.toString(q.rowsChanged()),
                    q.error() == null ? "" : q.error()));
        }
        Csv.write(refresh, List.of("query", "mode", "diff_median_ms", "diff_p95_ms", "full_median_ms", "full_p95_ms",
                "mv_median_ms", "mv_p95_ms", "rows_changed", "error"), rows);
        Path tick = directory.resolve("idle-tick.csv");
        Ticks t = r.ticks();
        Csv.write(tick, List.of("stream_tables", "case", "median_ms", "p95_ms", "max_ms", "ticks"), List.of(
                List.of(Integer.toString(t.streamTables()), "none due", Figures.csv(t.noneDue().medianMillis()),
                        Figures.csv(t.noneDue().p95Millis()), Figures.csv(t.noneDue().maxMillis()),
                        Integer.toString(t.noneDue().count())),
                List.of(Integer.toString(t.streamTables()), "all due, nothing changed",
                        Figures.csv(t.allDue().medianMillis()), Figures.csv(t.allDue().p95Millis()),
                        Figures.csv(t.allDue().maxMillis()), Integer.toString(t.allDue().count())),
                List.of(Integer.toString(t.streamTables()), "all due, nothing changed, tiered",
                        Figures.csv(t.tiered().medianMillis()), Figures.csv(t.tiered().p95Millis()),
                        Figures.csv(t.tiered().maxMillis()), Integer.toString(t.tiered().count()))));
        Path png = directory.resolve("idle-refresh.png");
        Map<String, List<Double>> series = new LinkedHashMap<>();
        series.put("DIFFERENTIAL refresh", r.queries().stream().map(q -> q.diff().medianMillis()).toList());
        series.put("FULL refresh (engine)", r.queries().stream().map(q -> q.full().medianMillis()).toList());
        series.put("REFRESH MATERIALIZED VIEW", r.queries().stream().map(q -> q.mv().medianMillis()).toList());
        Charts.write(png, new Charts.Bars("TPC-H SF " + Figures.plain(scale)
                        + ": median refresh time when nothing changed (log scale)", "query", "milliseconds",
                r.queries().stream().map(q -> q.setup().query().label()).toList(), series, true), 1200, 600);
        return List.of(refresh, tick, png);
    }
}
