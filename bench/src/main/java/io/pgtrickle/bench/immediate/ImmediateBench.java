package io.pgtrickle.bench.immediate;

import io.pgtrickle.bench.Csv;
import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.MultisetCheck;
import io.pgtrickle.bench.Quantiles;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.lifecycle.RefreshMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.sql.QualifiedName;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * What an IMMEDIATE stream table costs the writer, per statement, on the shape of pg_ivm's own
 * example: pgbench-like {@code pgbench_accounts}, {@code pgbench_branches} and
 * {@code pgbench_tellers}, and the join view {@code accounts JOIN branches USING (bid)}. The
 * statement is pgbench's single-row {@code UPDATE pgbench_accounts SET abalance = abalance + :delta
 * WHERE aid = :aid} with a random account and delta, autocommit, one at a time on one connection
 * (a prepared statement). It is timed four ways, each after untimed warm-up statements: with no
 * stream table on the source (half of its statements first, the other half last, so that the
 * machine's drift over the run shows); with a DIFFERENTIAL stream table of the join (the writer pays the
 * engine's change capture only: its schedule of an hour keeps the engine from refreshing it during
 * the measurement); with an IMMEDIATE stream table of the join; with an IMMEDIATE stream table of
 * an aggregate by branch. Each stream table is alone on the source while it is measured and dropped
 * afterwards. After the measurement each is checked against a fresh run of its query (multiset
 * equality; the DIFFERENTIAL one after one refresh): IMMEDIATE maintenance must be exact after
 * every statement, with no refresh.
 */
public final class ImmediateBench {
    static final String ACCOUNTS = "pgbench_accounts";
    static final String BRANCHES = "pgbench_branches";
    static final String TELLERS = "pgbench_tellers";
    /** What marks the tables as this benchmark's, so that a run never drops someone's real pgbench tables. */
    static final String MARK = "pgtrickle bench immediate";
    /** pg_ivm's example IMMV. */
    public static final String JOIN = "SELECT a.aid, b.bid, a.abalance, b.bbalance FROM " + ACCOUNTS + " a JOIN "
            + BRANCHES + " b USING (bid)";
    public static final String AGGREGATE = "SELECT bid, count(*) AS accounts, sum(abalance) AS total FROM " + ACCOUNTS
            + " GROUP BY bid";
    public static final String UPDATE = "UPDATE " + ACCOUNTS + " SET abalance = abalance + ? WHERE aid = ?";
    /** {@link #UPDATE} as pgbench writes it. */
    public static final String STATEMENT = "UPDATE " + ACCOUNTS + " SET abalance = abalance + :delta WHERE aid = :aid";
    static final String DIFFERENTIAL_NAME = "immediate_bench_differential";
    static final String JOIN_NAME = "immediate_bench_join";
    static final String AGGREGATE_NAME = "immediate_bench_aggregate";

    /** The four ways the writer's statement is timed, in the order they run. */
    public enum Setup {
        NONE("no stream table", null, null, null),
        DIFFERENTIAL("DIFFERENTIAL join", DIFFERENTIAL_NAME, JOIN, RefreshMode.DIFFERENTIAL),
        IMMEDIATE_JOIN("IMMEDIATE join", JOIN_NAME, JOIN, RefreshMode.IMMEDIATE),
        IMMEDIATE_AGGREGATE("IMMEDIATE aggregate", AGGREGATE_NAME, AGGREGATE, RefreshMode.IMMEDIATE);

        private final String label;
        private final String streamTable;
        private final String query;
        private final RefreshMode mode;

        Setup(String label, String streamTable, String query, RefreshMode mode) {
            this.label = label;
            this.streamTable = streamTable;
            this.query = query;
            this.mode = mode;
        }

        public String label() {
            return label;
        }

        /** The stream table's query, {@code null} for {@link #NONE}. */
        public String query() {
            return query;
        }
    }

    /**
     * The figures of one setup. {@code differences}: the rows by which the stream table and its
     * query differed after the measurement (0 when equal), -1 when there is no stream table.
     */
    public record SetupResult(Setup setup, Quantiles latency, long differences) {
        public boolean equal() {
            return differences <= 0;
        }

        /** What the check found, for the table. */
        public String check() {
            if (differences < 0) {
                return "-";
            }
            String when = setup.mode == RefreshMode.DIFFERENTIAL ? " after a refresh" : "";
            return differences == 0 ? "equal" + when : "DIFFERS by " + differences + " rows" + when;
        }
    }

    private final PgTrickleEngine engine;
    private final ImmediateOptions options;
    private final Consumer<String> progress;
    private boolean checkpointRefused;

    public ImmediateBench(PgTrickleEngine engine, ImmediateOptions options, Consumer<String> progress) {
        this.engine = engine;
        this.options = options;
        this.progress = progress;
    }

    /**
     * The setups' figures, and the two halves of the no-stream-table measurement: one before the
     * stream tables, one after them, so that drift of the machine meanwhile shows.
     */
    public record Run(List<SetupResult> setups, Quantiles baselineStart, Quantiles baselineEnd) {
    }

    /** Loads, measures the four setups, checks, and removes everything it made. */
    public Run run() throws SQLException {
        refuseForeignTables();
        dropAll();
        try {
            load();
            // The setup without a stream table runs half its statements first, the rest last.
            int first = (options.statements() + 1) / 2;
            long[] start = time(Setup.NONE, first, 0, "(first half)");
            List<SetupResult> results = new ArrayList<>();
            for (Setup s : Setup.values()) {
                if (s != Setup.NONE) {
                    results.add(measure(s));
                }
            }
            long[] end = time(Setup.NONE, options.statements() - first, 1, "(second half)");
            long[] all = java.util.Arrays.copyOf(start, start.length + end.length);
            System.arraycopy(end, 0, all, start.length, end.length);
            results.add(0, new SetupResult(Setup.NONE, Quantiles.of(all), -1));
            return new Run(results, Quantiles.of(start), Quantiles.of(end));
        } finally {
            dropAll();
        }
    }

    /** pgbench tables this benchmark did not make are someone's data: stop rather than drop them. */
    private void refuseForeignTables() throws SQLException {
        try (Connection c = engine.dataSource().getConnection()) {
            for (String table : List.of(ACCOUNTS, BRANCHES, TELLERS)) {
                Boolean foreign = Sql.value(c, Boolean.class, "SELECT obj_description(to_regclass(?), 'pg_class')"
                        + " IS DISTINCT FROM ? FROM pg_class WHERE oid = to_regclass(?)", "public." + table, MARK,
                        "public." + table);
                if (Boolean.TRUE.equals(foreign)) {
                    throw new IllegalStateException("public." + table + " exists and was not made by this benchmark;"
                            + " run it in a database of its own");
                }
            }
        }
    }

    private void load() throws SQLException {
        progress.accept(String.format(Locale.ROOT, "loading %,d accounts, %,d branches and %,d tellers (scale %s)",
                options.accounts(), options.branches(), options.tellers(), Figures.plain(options.scale())));
        try (Connection c = engine.dataSource().getConnection()) {
            c.setAutoCommit(true);
            // pgbench -i's tables (fillfactor 100), rows generated server side, keys added after the load.
            Sql.execute(c,
                    "CREATE TABLE " + BRANCHES + " (bid int NOT NULL, bbalance int, filler char(88))",
                    "CREATE TABLE " + TELLERS + " (tid int NOT NULL, bid int, tbalance int, filler char(84))",
                    "CREATE TABLE " + ACCOUNTS + " (aid int NOT NULL, bid int, abalance int, filler char(84))");
            for (String table : List.of(ACCOUNTS, BRANCHES, TELLERS)) {
                Sql.execute(c, "COMMENT ON TABLE " + table + " IS '" + MARK + "'");
            }
            update(c, "INSERT INTO " + BRANCHES + " SELECT g, 0, '' FROM generate_series(1, ?) g", options.branches());
            update(c, "INSERT INTO " + TELLERS + " SELECT g, (g - 1) / ? + 1, 0, '' FROM generate_series(1, ?) g",
                    ImmediateOptions.TELLERS_PER_BRANCH, options.tellers());
            update(c, "INSERT INTO " + ACCOUNTS + " SELECT g, (g - 1) / ? + 1, 0, '' FROM generate_series(1, ?) g",
                    ImmediateOptions.ACCOUNTS_PER_BRANCH, options.accounts());
            Sql.execute(c,
                    "ALTER TABLE " + BRANCHES + " ADD PRIMARY KEY (bid)",
                    "ALTER TABLE " + TELLERS + " ADD PRIMARY KEY (tid)",
                    "ALTER TABLE " + ACCOUNTS + " ADD PRIMARY KEY (aid)",
                    "VACUUM ANALYZE " + BRANCHES, "VACUUM ANALYZE " + TELLERS, "VACUUM ANALYZE " + ACCOUNTS);
        }
    }

    private SetupResult measure(Setup s) throws SQLException {
        if (s.streamTable != null) {
            progress.accept("creating " + s.mode + " stream table " + s.streamTable + ": " + s.query);
            long start = System.nanoTime();
            StreamTableRecord st = engine.streamTables().create(StreamTableSpec.parse(s.streamTable, s.query, "1h",
                    s.mode.name()));
            if (st.effectiveMode() != s.mode) {
                throw new IllegalStateException(s.streamTable + " is maintained " + st.effectiveMode() + ", not "
                        + s.mode + (st.modeReason() == null ? "" : ": " + st.modeReason()));
            }
            progress.accept(String.format(Locale.ROOT, "created in %.1f s", (System.nanoTime() - start) / 1e9));
        }
        Quantiles q = Quantiles.of(time(s, options.statements(), 0, ""));
        long differences = -1;
        if (s.streamTable != null) {
            if (s.mode == RefreshMode.DIFFERENTIAL) {
                engine.streamTables().refresh(s.streamTable);
            }
            try (Connection c = engine.dataSource().getConnection()) {
                differences = MultisetCheck.differences(c, "public." + s.streamTable, s.query);
            }
            progress.accept(s.streamTable + (differences == 0 ? " equals its query"
                    : " DIFFERS from its query by " + differences + " rows"));
            engine.streamTables().drop(s.streamTable);
        }
        return new SetupResult(s, q, differences);
    }

    /**
     * Times {@code count} statements on a connection of their own after the warm-up ones; the
     * accounts and deltas come from the seed, the setup and {@code part} (a setup timed in parts
     * draws other accounts in each).
     */
    private long[] time(Setup s, int count, int part, String what) throws SQLException {
        long[] nanos = new long[count];
        if (count == 0) {
            return nanos;
        }
        checkpoint();
        SplittableRandom random = new SplittableRandom(options.seed() * 31 + s.ordinal() + 7L * part);
        try (Connection w = engine.dataSource().getConnection()) {
            w.setAutoCommit(true);
            try (PreparedStatement ps = w.prepareStatement(UPDATE)) {
                for (int i = 0; i < options.warmup(); i++) {
                    execute(ps, random);
                }
                for (int i = 0; i < nanos.length; i++) {
                    long start = System.nanoTime();
                    execute(ps, random);
                    nanos[i] = System.nanoTime() - start;
                }
            }
        }
        Quantiles q = Quantiles.of(nanos);
        progress.accept(String.format(Locale.ROOT, "%-20s %,d statements after %,d warm-up%s: p50 %s ms, p99 %s ms",
                s.label, nanos.length, options.warmup(), what.isEmpty() ? "" : " " + what,
                Figures.millis(q.medianMillis()), Figures.millis(q.p99Millis())));
        return nanos;
    }

    private void execute(PreparedStatement ps, SplittableRandom random) throws SQLException {
        ps.setInt(1, random.nextInt(-5000, 5001));
        ps.setInt(2, random.nextInt(1, options.accounts() + 1));
        int rows = ps.executeUpdate();
        if (rows != 1) {
            throw new IllegalStateException("the UPDATE changed " + rows + " rows, not 1");
        }
    }

    /** Starts each measurement without the dirty pages of the previous step; skipped if not permitted. */
    private void checkpoint() {
        if (checkpointRefused) {
            return;
        }
        try (Connection c = engine.dataSource().getConnection()) {
            c.setAutoCommit(true);
            Sql.execute(c, "CHECKPOINT");
        } catch (SQLException e) {
            checkpointRefused = true;
            progress.accept("no CHECKPOINT before the measurements: " + e.getMessage());
        }
    }

    /** Drops what this benchmark makes, left by an earlier run or made by this one. */
    private void dropAll() throws SQLException {
        for (String name : List.of(DIFFERENTIAL_NAME, JOIN_NAME, AGGREGATE_NAME)) {
            if (engine.streamTables().find(QualifiedName.parse(name)).isPresent()) {
                engine.streamTables().drop(name);
            }
        }
        try (Connection c = engine.dataSource().getConnection()) {
            Sql.execute(c, "DROP TABLE IF EXISTS " + ACCOUNTS + ", " + BRANCHES + ", " + TELLERS);
        }
    }

    private static void update(Connection c, String sql, Object... parameters) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                ps.setObject(i + 1, parameters[i]);
            }
            ps.executeUpdate();
        }
    }

    public static final List<String> HEADER = List.of("setup", "statements", "p50 ms", "p90 ms", "p99 ms", "mean ms",
            "max ms", "p50 / none", "mean / none", "p50 - none ms", "check");

    /** The table rows, one per setup, with each setup's ratio to the first (no stream table). */
    public static List<List<String>> rows(List<SetupResult> results, String captureMode) {
        Quantiles none = results.get(0).latency();
        return results.stream().map(r -> List.of(label(r.setup(), captureMode), String.valueOf(r.latency().count()),
                Figures.millis(r.latency().medianMillis()), Figures.millis(r.latency().nanos(0.9) / 1e6),
                Figures.millis(r.latency().p99Millis()), Figures.millis(r.latency().meanMillis()),
                Figures.millis(r.latency().maxMillis()),
                Figures.ratio(r.latency().medianMillis(), none.medianMillis()),
                Figures.ratio(r.latency().meanMillis(), none.meanMillis()),
                Figures.millis(r.latency().medianMillis() - none.medianMillis()), r.check())).toList();
    }

    /** The drift line: the p50 of the statements without a stream table before and after the others. */
    public static String drift(Run run) {
        return "no stream table, p50 of each half: " + Figures.millis(run.baselineStart().medianMillis())
                + " ms before the stream tables, " + (run.baselineEnd().count() == 0 ? "none"
                : Figures.millis(run.baselineEnd().medianMillis()) + " ms after them")
                + " (the machine's drift meanwhile)";
    }

    /** The setup's label; the DIFFERENTIAL one names the capture, the writer's only cost there. */
    public static String label(Setup s, String captureMode) {
        return s == Setup.DIFFERENTIAL ? s.label() + " (" + captureMode.toLowerCase(Locale.ROOT) + " capture only)"
                : s.label();
    }

    /**
     * Writes {@code immediate.csv} and {@code immediate.md} (the {@code preamble} lines, then the
     * table in markdown and the queries) into {@code directory}; returns both paths.
     */
    public static List<Path> write(Run run, String captureMode, List<String> preamble, Path directory)
            throws IOException {
        List<SetupResult> results = run.setups();
        Path csv = directory.resolve("immediate.csv");
        Quantiles none = results.get(0).latency();
        Csv.write(csv, List.of("setup", "query", "statements", "p50_ms", "p90_ms", "p99_ms", "mean_ms", "max_ms",
                "p50_over_none", "mean_over_none", "p50_minus_none_ms", "differences"), results.stream().map(r -> List.of(
                label(r.setup(), captureMode), r.setup().query() == null ? "" : r.setup().query(),
                String.valueOf(r.latency().count()), Figures.csv(r.latency().medianMillis()),
                Figures.csv(r.latency().nanos(0.9) / 1e6), Figures.csv(r.latency().p99Millis()),
                Figures.csv(r.latency().meanMillis()), Figures.csv(r.latency().maxMillis()),
                Figures.csv(r.latency().medianMillis() / none.medianMillis()),
                Figures.csv(r.latency().meanMillis() / none.meanMillis()),
                Figures.csv(r.latency().medianMillis() - none.medianMillis()),
                r.differences() < 0 ? "" : String.valueOf(r.differences()))).toList());
        Path md = directory.resolve("immediate.md");
        try (Writer w = Files.newBufferedWriter(md, StandardCharsets.UTF_8)) {
            w.write("# bench immediate: the writer's cost per statement\n\n```\n");
            for (String line : preamble) {
                w.write(line + "\n");
            }
            w.write("```\n\nStatement: `" + STATEMENT + "` (autocommit, random account and delta).\n\n");
            w.write("| " + String.join(" | ", HEADER) + " |\n");
            w.write("|" + "---|".repeat(HEADER.size()) + "\n");
            for (List<String> row : rows(results, captureMode)) {
                w.write("| " + String.join(" | ", row) + " |\n");
            }
            w.write("\n" + drift(run) + ".\n");
            w.write("\nQueries:\n\n- join (DIFFERENTIAL and IMMEDIATE): `" + JOIN + "`\n- aggregate (IMMEDIATE): `"
                    + AGGREGATE + "`\n");
        }
        return List.of(csv, md);
    }
}
