package io.pgtrickle.bench.recursive;

import io.pgtrickle.bench.Csv;
import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.MultisetCheck;
import io.pgtrickle.bench.Quantiles;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.refresh.RefreshResult;
import io.pgtrickle.core.sql.QualifiedName;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Whether a DIFFERENTIAL refresh of a recursive query does work in proportion to the subgraph a
 * change reaches. Over one departments table (a tree and a deep chain), the org-chart query
 * three ways: a DIFFERENTIAL stream table, a FULL one and a materialized view. Each round applies
 * every change kind in turn; after each change, an untimed refresh of a small stream table absorbs
 * the wait for capture, then the three refresh in an order that rotates between rounds (so none
 * always runs first, on cold caches, or last, on warm ones), and both stream tables are checked
 * against a fresh run of the query. The stream tables' times are the engine's own
 * ({@link RefreshResult#took()}); the view's is the wall time of its REFRESH statement.
 */
public final class RecursiveBench {
    static final String TABLE = ChangeKind.TABLE;
    /** {@code RecursiveCteIT.TREE} over the benchmark's own table. */
    public static final String QUERY = """
            WITH RECURSIVE tree AS (
                SELECT id, name, parent_id, name AS path, 0 AS depth FROM %s WHERE parent_id IS NULL
                UNION ALL
                SELECT d.id, d.name, d.parent_id, tree.path || ' > ' || d.name, tree.depth + 1
                  FROM %s d JOIN tree ON d.parent_id = tree.id)
            SELECT id, name, parent_id, path, depth FROM tree""".formatted(TABLE, TABLE);
    static final String DIFFERENTIAL = "recursive_bench_differential";
    static final String FULL = "recursive_bench_full";
    static final String CAPTURE = "recursive_bench_capture";
    static final String VIEW = "recursive_bench_mv";

    private enum Target { DIFFERENTIAL, FULL, VIEW }

    /**
     * The figures of one change kind over the measured rounds. {@code pathBytes}: the bytes of the
     * paths the change rewrites (its subtree's, before or after the change, whichever is more),
     * since a row's cost grows with its path: the chain's rows are few but long.
     */
    public record KindResult(String label, int node, long subtree, long pathBytes, long expectedInserted,
                             long expectedDeleted,
                             double insertedMedian, double deletedMedian, Quantiles differential, Quantiles full,
                             Quantiles view) {
        /** Whether the differential refreshes changed the rows the subtree predicts. */
        public boolean asExpected() {
            return insertedMedian == expectedInserted && deletedMedian == expectedDeleted;
        }
    }

    /** The samples of one change kind, collected round by round. */
    private static final class Samples {
        final List<Long> differential = new ArrayList<>();
        final List<Long> full = new ArrayList<>();
        final List<Long> view = new ArrayList<>();
        final List<Long> inserted = new ArrayList<>();
        final List<Long> deleted = new ArrayList<>();
        long pathBytes;
    }

    private final PgTrickleEngine engine;
    private final RecursiveOptions options;
    private final Consumer<String> progress;
    private final DepartmentTree tree;

    public RecursiveBench(PgTrickleEngine engine, RecursiveOptions options, Consumer<String> progress) {
        this.engine = engine;
        this.options = options;
        this.progress = progress;
        this.tree = new DepartmentTree(options);
    }

    /** Loads, creates, measures and removes everything it made; throws when an invariant check fails. */
    public List<KindResult> run() throws SQLException {
        List<ChangeKind> kinds = ChangeKind.of(tree);
        for (ChangeKind k : kinds) {
            progress.accept(String.format(Locale.ROOT, "%-20s node %d, subtree %d", k.label(), k.node(),
                    k.subtree()));
        }
        dropAll();
        try {
            load();
            create();
            List<Samples> samples = new ArrayList<>();
            kinds.forEach(k -> samples.add(new Samples()));
            // Round 0 is untimed: the first refreshes after create plan and warm caches.
            for (int round = 0; round <= options.rounds(); round++) {
                for (int i = 0; i < kinds.size(); i++) {
                    measure(kinds.get(i), round, samples.get(i));
                }
                progress.accept(round == 0 ? "warm-up round done, invariants held"
                        : "round " + round + " of " + options.rounds() + " done, invariants held");
            }
            List<KindResult> results = new ArrayList<>();
            for (int i = 0; i < kinds.size(); i++) {
                results.add(result(kinds.get(i), samples.get(i)));
            }
            return results;
        } finally {
            dropAll();
        }
    }

    private void load() throws SQLException {
        progress.accept("loading a tree of " + options.nodes() + " nodes (fanout " + options.fanout()
                + ") and a chain of " + options.chainDepth() + " into " + TABLE);
        try (Connection c = engine.dataSource().getConnection()) {
            Sql.execute(c, "CREATE TABLE " + TABLE + " (id int PRIMARY KEY, name text NOT NULL, parent_id int)");
            update(c, "INSERT INTO " + TABLE + " SELECT g, 'd' || g, CASE WHEN g > 1 THEN (g + ? - 2) / ? END"
                    + " FROM generate_series(1, ?) g", options.fanout(), options.fanout(), options.nodes());
            update(c, "INSERT INTO " + TABLE + " SELECT ? + k, 'd' || (? + k), CASE WHEN k > 1 THEN ? + k - 1 END"
                    + " FROM generate_series(1, ?) k", options.nodes(), options.nodes(), options.nodes(),
                    options.chainDepth());
            Sql.execute(c, "CREATE INDEX ON " + TABLE + " (parent_id)", "ANALYZE " + TABLE);
        }
    }

    private void create() throws SQLException {
        progress.accept("creating the DIFFERENTIAL and FULL stream tables and the materialized view");
        engine.streamTables().create(StreamTableSpec.parse(CAPTURE, "SELECT count(*) AS n FROM " + TABLE, "1h",
                "DIFFERENTIAL"));
        engine.streamTables().create(StreamTableSpec.parse(DIFFERENTIAL, QUERY, "1h", "DIFFERENTIAL"));
        engine.streamTables().create(StreamTableSpec.parse(FULL, QUERY, "1h", "FULL"));
        try (Connection c = engine.dataSource().getConnection()) {
            Sql.execute(c, "CREATE MATERIALIZED VIEW " + VIEW + " AS " + QUERY);
            Long rows = Sql.value(c, Long.class, "SELECT count(*) FROM " + DIFFERENTIAL);
            if (rows == null || rows != tree.rows()) {
                throw new IllegalStateException(DIFFERENTIAL + " holds " + rows + " rows, the tree and chain "
                        + tree.rows());
            }
        }
        check("after create");
    }

    /**
     * Applies one change of {@code kind}, refreshes the three, checks; records into {@code into}
     * from round 1 on, and the bytes of the subtree's paths in round 0.
     */
    private void measure(ChangeKind kind, int round, Samples samples) throws SQLException {
        Samples into = round == 0 ? null : samples;
        if (round == 0) {
            samples.pathBytes = pathBytes(kind.node());
        }
        try (Connection c = engine.dataSource().getConnection()) {
            update(c, kind.sql(), kind.parameters().apply(round).toArray());
        }
        engine.streamTables().refresh(CAPTURE);
        Target[] order = Target.values();
        for (int i = 0; i < order.length; i++) {
            Target t = order[(i + round) % order.length];
            switch (t) {
                case DIFFERENTIAL -> {
                    RefreshResult r = engine.streamTables().refresh(DIFFERENTIAL);
                    if (!"DIFFERENTIAL".equals(r.action())) {
                        throw new IllegalStateException(kind.label() + ": the refresh of " + DIFFERENTIAL + " was "
                                + r.action() + ", not DIFFERENTIAL");
                    }
                    if (into != null) {
                        into.differential.add(r.took().toNanos());
                        into.inserted.add(r.rowsInserted());
                        into.deleted.add(r.rowsDeleted());
                    }
                }
                case FULL -> {
                    RefreshResult r = engine.streamTables().refresh(FULL);
                    if (into != null) {
                        into.full.add(r.took().toNanos());
                    }
                }
                default -> {
                    long took = refreshView();
                    if (into != null) {
                        into.view.add(took);
                    }
                }
            }
        }
        check(kind.label() + ", round " + round);
        if (round == 0) {
            samples.pathBytes = Math.max(samples.pathBytes, pathBytes(kind.node()));
        }
    }

    /** The bytes of the paths of {@code node}'s subtree as the DIFFERENTIAL stream table holds them; untimed. */
    private long pathBytes(int node) throws SQLException {
        try (Connection c = engine.dataSource().getConnection()) {
            Long bytes = Sql.value(c, Long.class, "WITH RECURSIVE sub(id) AS (SELECT id FROM " + TABLE + " WHERE id = ?"
                    + " UNION ALL SELECT d.id FROM " + TABLE + " d JOIN sub ON d.parent_id = sub.id)"
                    + " SELECT coalesce(sum(octet_length(t.path)), 0)::bigint FROM sub JOIN " + DIFFERENTIAL
                    + " t USING (id)", node);
            return bytes == null ? 0 : bytes;
        }
    }

    private long refreshView() throws SQLException {
        try (Connection c = engine.dataSource().getConnection()) {
            long start = System.nanoTime();
            Sql.execute(c, "REFRESH MATERIALIZED VIEW " + VIEW);
            return System.nanoTime() - start;
        }
    }

    /** The invariant of both stream tables; a difference ends the run. */
    private void check(String when) throws SQLException {
        try (Connection c = engine.dataSource().getConnection()) {
            for (String table : List.of(DIFFERENTIAL, FULL)) {
                long differences = MultisetCheck.differences(c, "public." + table, QUERY);
                if (differences != 0) {
                    throw new IllegalStateException("invariant violated " + when + ": " + table + " differs from its"
                            + " query by " + differences + " row(s)");
                }
            }
        }
    }

    private static KindResult result(ChangeKind k, Samples s) {
        // Quantiles works on any longs; its nanos(0.5) is the plain median of the row counts.
        return new KindResult(k.label(), k.node(), k.subtree(), s.pathBytes, k.expectedInserted(), k.expectedDeleted(),
                Quantiles.of(s.inserted).nanos(0.5), Quantiles.of(s.deleted).nanos(0.5), Quantiles.of(s.differential),
                Quantiles.of(s.full), Quantiles.of(s.view));
    }

    /** Drops what this benchmark makes, left by an earlier run or made by this one. */
    private void dropAll() throws SQLException {
        for (String name : List.of(DIFFERENTIAL, FULL, CAPTURE)) {
            if (engine.streamTables().find(QualifiedName.parse(name)).isPresent()) {
                engine.streamTables().drop(name);
            }
        }
        try (Connection c = engine.dataSource().getConnection()) {
            Sql.execute(c, "DROP MATERIALIZED VIEW IF EXISTS " + VIEW, "DROP TABLE IF EXISTS " + TABLE);
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

    public static final List<String> HEADER = List.of("change", "node", "subtree", "path bytes", "rows inserted",
            "rows deleted", "DIFFERENTIAL ms", "FULL ms", "MV ms", "MV/DIFFERENTIAL");

    /** The table rows: medians of the measured rounds. */
    public static List<List<String>> rows(List<KindResult> results) {
        return results.stream().map(r -> List.of(r.label(), String.valueOf(r.node()), String.valueOf(r.subtree()),
                String.valueOf(r.pathBytes()),
                Figures.plain(r.insertedMedian()), Figures.plain(r.deletedMedian()),
                Figures.millis(r.differential().medianMillis()), Figures.millis(r.full().medianMillis()),
                Figures.millis(r.view().medianMillis()),
                Figures.ratio(r.view().medianMillis(), r.differential().medianMillis()))).toList();
    }

    /** Writes {@code recursive.csv}. */
    public static Path write(List<KindResult> results, Path directory) throws IOException {
        Path csv = directory.resolve("recursive.csv");
        Csv.write(csv, List.of("change", "node", "subtree", "path_bytes", "rows_inserted_median", "rows_deleted_median",
                "differential_median_ms", "differential_p95_ms", "full_median_ms", "full_p95_ms", "mv_median_ms",
                "mv_p95_ms", "mv_over_differential"), results.stream().map(r -> List.of(r.label(),
                String.valueOf(r.node()), String.valueOf(r.subtree()), String.valueOf(r.pathBytes()),
                Figures.csv(r.insertedMedian()),
                Figures.csv(r.deletedMedian()), Figures.csv(r.differential().medianMillis()),
                Figures.csv(r.differential().p95Millis()), Figures.csv(r.full().medianMillis()),
                Figures.csv(r.full().p95Millis()), Figures.csv(r.view().medianMillis()),
                Figures.csv(r.view().p95Millis()),
                Figures.csv(r.view().medianMillis() / r.differential().medianMillis()))).toList());
        return csv;
    }
}
