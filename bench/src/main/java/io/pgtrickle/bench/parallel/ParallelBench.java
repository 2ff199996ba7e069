package io.pgtrickle.bench.parallel;

import io.pgtrickle.bench.Csv;
import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.MultisetCheck;
import io.pgtrickle.bench.Quantiles;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.Catalog;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.lifecycle.SourceChangeHandler;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.refresh.Refresher;
import io.pgtrickle.core.refresh.RetryPolicy;
import io.pgtrickle.core.schedule.Scheduler;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
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
 * Parallel refresh: {@code n} independent DIFFERENTIAL stream tables over slices of one table
 * (and a few dependants, each reading two of them), refreshed by one scheduler pass
 * ({@link Scheduler#runOnce}, with the engine's housekeeping) per concurrency level. Each round
 * updates rows in every slice, waits until capture has buffered them and every stream table is
 * due, then times one pass per level (levels in rotating order, so machine noise spreads over
 * all of them). Afterwards every stream table is checked against a fresh run of its query.
 */
public final class ParallelBench {
    static final String SOURCE = "par_source";
    static final String PREFIX = "par_st_";
    static final String DEPENDANT_PREFIX = "par_dep_";
    static final String SCHEDULE = "100ms";
    /** Groups per slice. */
    static final int GROUPS = 20;

    private final PgTrickleEngine engine;
    private final ParallelOptions options;
    private final Consumer<String> progress;

    public ParallelBench(PgTrickleEngine engine, ParallelOptions options, Consumer<String> progress) {
        this.engine = engine;
        this.options = options;
        this.progress = progress;
    }

    /** The timed passes of one concurrency level. */
    public record Level(int concurrency, Quantiles ticks, int failed) {
    }

    /** A stream table that differs from its query after the last round. */
    public record Difference(String streamTable, long rows) {
    }

    public record Results(List<Level> levels, int refreshesPerTick, long rowsChangedPerRound,
                          List<Difference> differences, int checked, List<String> failures) {
        public boolean held() {
            return differences.isEmpty();
        }

        /** The level speed-ups are relative to: 1 when measured, else the lowest. */
        public Level baseline() {
            return levels.stream().filter(l -> l.concurrency() == 1).findFirst()
                    .orElseGet(() -> levels.stream().min((a, b) -> Integer.compare(a.concurrency(), b.concurrency()))
                            .orElseThrow());
        }
    }

    public static String name(int i) {
        return String.format(Locale.ROOT, PREFIX + "%03d", i + 1);
    }

    public static String dependantName(int j) {
        return String.format(Locale.ROOT, DEPENDANT_PREFIX + "%02d", j + 1);
    }

    /** The table of slice {@code i} when every stream table reads a table of its own. */
    public static String ownSource(int i) {
        return String.format(Locale.ROOT, SOURCE + "_%03d", i + 1);
    }

    /** The query of independent stream table {@code i}: an aggregate over its own slice, distinct per table. */
    public static String query(int i, int n, boolean shared) {
        return "SELECT grp, count(*) AS n, sum(val) AS total, sum(val * " + (i + 1) + ") AS weighted FROM "
                + (shared ? SOURCE + " WHERE id % " + n + " = " + i : ownSource(i)) + " GROUP BY grp";
    }

    private List<String> sources() {
        if (options.sharedSource()) {
            return List.of(SOURCE);
        }
        List<String> sources = new ArrayList<>();
        for (int i = 0; i < options.streamTables(); i++) {
            sources.add(ownSource(i));
        }
        return sources;
    }

    /** The query of dependant {@code j}: a join of independent stream tables {@code 2j} and {@code 2j + 1}. */
    public static String dependantQuery(int j) {
        return "SELECT a.grp, a.n + b.n AS n, a.total + b.total AS total FROM " + name(2 * j) + " a JOIN "
                + name(2 * j + 1) + " b ON a.grp = b.grp";
    }

    public Results run() throws SQLException, InterruptedException {
        int n = options.streamTables();
        List<Scheduler> schedulers = new ArrayList<>();
        try (Connection c = engine.dataSource().getConnection()) {
            drop(c);
            try {
                // grp = (id / n) % GROUPS: every slice (id % n) has all groups.
                List<String> sources = sources();
                for (int k = 0; k < sources.size(); k++) {
                    String slice = options.sharedSource() ? "" : " WHERE i % " + n + " = " + k;
                    Sql.execute(c, "CREATE TABLE " + sources.get(k) + " (id integer PRIMARY KEY, grp integer NOT NULL,"
                                    + " val numeric NOT NULL)",
                            "INSERT INTO " + sources.get(k) + " SELECT i, (i / " + n + ") % " + GROUPS + ", i * 0.5"
                                    + " FROM generate_series(1, " + options.rows() + ") i" + slice,
                            "ANALYZE " + sources.get(k));
                }
                progress.accept(String.format(Locale.ROOT, "loaded %s: %,d rows; creating %d stream tables and %d"
                        + " dependants", options.sharedSource() ? SOURCE : n + " tables " + ownSource(0) + "..",
                        options.rows(), n, options.dependants()));
                Map<String, String> queries = new LinkedHashMap<>();
                for (int i = 0; i < n; i++) {
                    queries.put(name(i), query(i, n, options.sharedSource()));
                }
                for (int j = 0; j < options.dependants(); j++) {
                    queries.put(dependantName(j), dependantQuery(j));
                }
                for (Map.Entry<String, String> e : queries.entrySet()) {
                    engine.streamTables().create(StreamTableSpec.parse(e.getKey(), e.getValue(), SCHEDULE,
                            "DIFFERENTIAL"));
                }
                for (int level : options.concurrency()) {
                    schedulers.add(scheduler(engine.dataSource(), level));
                }
                long[][] ticks = new long[schedulers.size()][options.rounds()];
                int[] failed = new int[schedulers.size()];
                List<String> failures = new ArrayList<>();
                long changed = 0;
                for (int round = 0; round <= options.rounds(); round++) {
                    String label = round == 0 ? "warm-up" : "round " + round;
                    StringBuilder line = new StringBuilder(label + ":");
                    for (int k = 0; k < schedulers.size(); k++) {
                        int index = (k + round) % schedulers.size();
                        changed = change(c, round * schedulers.size() + k);
                        int level = options.concurrency().get(index);
                        Pass pass = tick(c, schedulers.get(index), level);
                        if (round > 0) {
                            ticks[index][round - 1] = pass.nanos();
                            failed[index] += pass.failed();
                        }
                        line.append(String.format(Locale.ROOT, " %d: %s ms", level, Figures.millis(pass.nanos() / 1e6)));
                        if (pass.failed() > 0) {
                            line.append(" (").append(pass.failed()).append(" not refreshed)");
                            failures.add(label + ", concurrency " + level + ": " + pass.failed() + " of "
                                    + options.total() + " stream tables not refreshed in the pass");
                            catchUp(schedulers.get(index), level);
                        }
                    }
                    progress.accept(line.toString());
                }
                List<Level> levels = new ArrayList<>();
                for (int k = 0; k < schedulers.size(); k++) {
                    levels.add(new Level(options.concurrency().get(k), Quantiles.of(ticks[k]), failed[k]));
                }
                progress.accept("checking " + queries.size() + " stream tables against their queries");
                List<Difference> differences = new ArrayList<>();
                for (Map.Entry<String, String> e : queries.entrySet()) {
                    long d = MultisetCheck.differences(c, "public." + e.getKey(), e.getValue());
                    if (d != 0) {
                        differences.add(new Difference(e.getKey(), d));
                    }
                }
                return new Results(levels, options.total(), changed, differences, queries.size(), failures);
            } finally {
                for (Scheduler s : schedulers) {
                    s.close();
                }
                drop(c);
            }
        }
    }

    /**
     * Updates about {@code changedRows} rows spread over every slice: the blocks of {@code n}
     * consecutive ids (one row of each slice) whose number is {@code seq} modulo the step. Some
     * rows move to another group. Returns the rows updated.
     */
    private long change(Connection c, int seq) throws SQLException {
        int n = options.streamTables();
        int blocks = Math.max(1, options.rows() / n);
        int step = Math.max(1, blocks * n / Math.max(1, options.changedRows()));
        long updated = 0;
        try (var s = c.createStatement()) {
            for (String source : sources()) {
                updated += s.executeUpdate("UPDATE " + source + " SET val = val + 1.5, grp = CASE WHEN id % 7 = "
                        + (seq % 7) + " THEN (grp + 1) % " + GROUPS + " ELSE grp END WHERE (id / " + n + ") % " + step
                        + " = " + (seq % step));
            }
        }
        return updated;
    }

    /** One timed pass: its time, and how many of the due stream tables it did not refresh (failed). */
    private record Pass(long nanos, int failed) {
    }

    /**
     * After a pass that left some stream tables unrefreshed (a failed refresh backs off), untimed
     * passes until one refreshes all of them, so the next round starts level and the failures do
     * not add up to a suspension.
     */
    private void catchUp(Scheduler scheduler, int level) throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        while (true) {
            Thread.sleep(300);
            if (scheduler.runOnce().size() == options.total()) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("at concurrency " + level + ", passes for 2 minutes did not refresh"
                        + " all " + options.total() + " stream tables");
            }
        }
    }

    /** Waits for capture and for every stream table to be due, then times one pass that must refresh all. */
    private Pass tick(Connection c, Scheduler scheduler, int level) throws SQLException, InterruptedException {
        String lsn = Sql.value(c, String.class, "SELECT pg_current_wal_insert_lsn()::text");
        engine.capture().awaitBuffered(engine.capture().sources().all(c), lsn);
        // Due: more than the schedule (100ms) since the last refresh of each.
        Thread.sleep(150);
        long start = System.nanoTime();
        List<Long> refreshed = scheduler.runOnce();
        long nanos = System.nanoTime() - start;
        if (refreshed.size() > options.total()) {
            throw new IllegalStateException("a pass at concurrency " + level + " refreshed " + refreshed.size()
                    + " stream tables, more than the " + options.total() + " due");
        }
        return new Pass(nanos, options.total() - refreshed.size());
    }

    /** The pass the engine's scheduler thread runs every tick, with its change handling and capture start. */
    private Scheduler scheduler(DataSource ds, int maxConcurrent) {
        Catalog catalog = new Catalog();
        Scheduler scheduler = new Scheduler(ds, catalog, new Refresher(ds, catalog, RetryPolicy.defaults(),
                engine.capture(), engine.serverCapabilities()), Duration.ofSeconds(1), maxConcurrent);
        scheduler.addHousekeeping(new SourceChangeHandler(ds, catalog, engine.streamTables(),
                engine.capture().sources())::handlePending);
        scheduler.addHousekeeping(engine.capture()::start);
        return scheduler;
    }

    private void drop(Connection c) throws SQLException {
        // Dependants first: they read the others.
        for (String prefix : List.of(DEPENDANT_PREFIX, PREFIX)) {
            for (StreamTableRecord st : engine.streamTables().list()) {
                if (st.name().name().startsWith(prefix)) {
                    engine.streamTables().drop(st.name(), false);
                }
            }
        }
        Sql.execute(c, "DROP TABLE IF EXISTS " + SOURCE);
        List<String> own = new ArrayList<>();
        try (var s = c.createStatement(); var rs = s.executeQuery("SELECT quote_ident(relname) FROM pg_class"
                + " WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' AND relname ~ '^" + SOURCE
                + "_[0-9]+$'")) {
            while (rs.next()) {
                own.add(rs.getString(1));
            }
        }
        for (String table : own) {
            Sql.execute(c, "DROP TABLE " + table);
        }
    }

    public static final List<String> HEADER = List.of("concurrency", "median ms", "p95 ms", "max ms",
            "refreshes/s", "speed-up", "not refreshed");

    /** The printed rows: per level its tick times, refreshes per second at the median, speed-up at the median. */
    public static List<List<String>> rows(Results r) {
        double base = r.baseline().ticks().medianMillis();
        List<List<String>> rows = new ArrayList<>();
        for (Level l : r.levels()) {
            double median = l.ticks().medianMillis();
            rows.add(List.of(Integer.toString(l.concurrency()), Figures.millis(median),
                    Figures.millis(l.ticks().p95Millis()), Figures.millis(l.ticks().maxMillis()),
                    Figures.rate(r.refreshesPerTick() / (median / 1000)), Figures.ratio(base, median),
                    Integer.toString(l.failed())));
        }
        return rows;
    }

    /** Writes {@code parallel.csv} and {@code parallel.md} (the {@code preamble}, then the table) into {@code directory}. */
    public static List<Path> write(Results r, boolean shared, List<String> preamble, List<String> after,
                                   Path directory)
            throws IOException {
        Files.createDirectories(directory);
        Path csv = directory.resolve("parallel.csv");
        double base = r.baseline().ticks().medianMillis();
        List<List<String>> rows = new ArrayList<>();
        for (Level l : r.levels()) {
            double median = l.ticks().medianMillis();
            rows.add(List.of(Integer.toString(l.concurrency()), Integer.toString(r.refreshesPerTick()),
                    Integer.toString(l.ticks().count()), Figures.csv(median), Figures.csv(l.ticks().p95Millis()),
                    Figures.csv(l.ticks().maxMillis()), Figures.csv(r.refreshesPerTick() / (median / 1000)),
                    Figures.csv(base / median), Integer.toString(l.failed())));
        }
        Csv.write(csv, List.of("concurrency", "refreshes_per_tick", "ticks", "median_ms", "p95_ms", "max_ms",
                "refreshes_per_s", "speedup", "not_refreshed"), rows);
        Path md = directory.resolve("parallel.md");
        try (Writer w = Files.newBufferedWriter(md, StandardCharsets.UTF_8)) {
            w.write("# bench parallel: one scheduler pass over many due stream tables, by concurrency\n\n```\n");
            for (String line : preamble) {
                w.write(line + "\n");
            }
            w.write("```\n\n");
            w.write("| " + String.join(" | ", HEADER) + " |\n");
            w.write("|" + "---|".repeat(HEADER.size()) + "\n");
            for (List<String> row : rows(r)) {
                w.write("| " + String.join(" | ", row) + " |\n");
            }
            w.write("\n");
            for (String line : after) {
                w.write(line + "\n");
            }
            w.write("\nQueries: stream table i of n: `" + query(0, 100, shared).replace(" * 1)", " * (i + 1))")
                    .replace("% 100 = 0", "% n = i").replace(ownSource(0), SOURCE + "_i") + "`; dependant j: `"
                    + dependantQuery(0) + "` (tables 2j+1 and 2j+2).\n");
        }
        return List.of(csv, md);
    }
}
