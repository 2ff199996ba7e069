package io.pgtrickle.bench.outbox;

import io.pgtrickle.bench.Csv;
import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.Quantiles;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.refresh.RefreshResult;
import java.io.IOException;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * What an outbox adds to a refresh. Per query shape, two DIFFERENTIAL stream tables with the same
 * query over the same source, one with an outbox and one without; each round changes
 * {@code changedRows} source rows (each in its own group, so the aggregate changes as many rows),
 * then refreshes both, in alternating order so that neither always runs second on warm caches,
 * after an untimed refresh of a third stream table that absorbs the wait for capture.
 * Both refreshes apply the same delta; the difference is the outbox write (the row images the
 * MERGE returns, and the entry its statement writes from them). Besides the ratio of the medians,
 * the median of the rounds' own ratios: the twins of a round run back to back, so it holds better
 * when the machine's speed drifts during the run.
 */
public final class OutboxBench {
    static final String SOURCE = "outbox_bench_items";

    /** One query shape; {@code query} reads {@link #SOURCE}. */
    public record Shape(String label, String query) {
    }

    public static final List<Shape> SHAPES = List.of(
            new Shape("aggregate", "SELECT grp, count(*) AS n, sum(v) AS total FROM " + SOURCE + " GROUP BY grp"),
            new Shape("projection", "SELECT id, grp, v FROM " + SOURCE + " WHERE v >= 0"));

    public record Options(int sourceRows, int changedRows, int rounds) {
        public Options {
            if (changedRows > sourceRows / 10) {
                throw new IllegalArgumentException("--changed-rows must be at most a tenth of --source-rows");
            }
        }
    }

    /**
     * The refresh times of one shape, the outbox changes each refresh wrote, and the median of
     * the rounds' ratios (with outbox / without) less one, in percent.
     */
    public record ShapeResult(Shape shape, Quantiles plain, Quantiles withOutbox, long changesPerRefresh,
                              double pairedOverheadPercent) {
        public double overheadPercent() {
            return (withOutbox.medianMillis() / plain.medianMillis() - 1) * 100;
        }
    }

    /** The median of the rounds' ratios {@code outbox[i] / plain[i]}, less one, in percent. */
    static double pairedOverheadPercent(List<Long> plain, List<Long> outbox) {
        double[] ratios = new double[plain.size()];
        for (int i = 0; i < ratios.length; i++) {
            ratios[i] = (double) outbox.get(i) / plain.get(i);
        }
        java.util.Arrays.sort(ratios);
        int n = ratios.length;
        double median = n % 2 == 1 ? ratios[n / 2] : (ratios[n / 2 - 1] + ratios[n / 2]) / 2;
        return (median - 1) * 100;
    }

    private final PgTrickleEngine engine;
    private final Options options;
    private final Consumer<String> progress;

    public OutboxBench(PgTrickleEngine engine, Options options, Consumer<String> progress) {
        this.engine = engine;
        this.options = options;
        this.progress = progress;
    }

    public List<ShapeResult> run() throws SQLException {
        int groups = options.sourceRows() / 10;
        try (Connection c = engine.dataSource().getConnection()) {
            progress.accept("loading " + options.sourceRows() + " rows into " + SOURCE);
            Sql.execute(c, "DROP TABLE IF EXISTS " + SOURCE + " CASCADE",
                    "CREATE TABLE " + SOURCE + " (id integer PRIMARY KEY, grp integer NOT NULL, v bigint NOT NULL)",
                    "INSERT INTO " + SOURCE + " SELECT i, i % " + groups + ", i FROM generate_series(1, "
                            + options.sourceRows() + ") i",
                    "ANALYZE " + SOURCE);
        }
        List<ShapeResult> results = new ArrayList<>();
        for (Shape shape : SHAPES) {
            results.add(runShape(shape, groups));
        }
        return results;
    }

    private ShapeResult runShape(Shape shape, int groups) throws SQLException {
        String plain = "outbox_bench_" + shape.label() + "_plain";
        String withOutbox = "outbox_bench_" + shape.label() + "_outbox";
        // Refreshed first, untimed, every round: it waits for capture to buffer the round's changes,
        // so neither timed refresh includes that wait.
        String sentinel = "outbox_bench_" + shape.label() + "_capture";
        engine.streamTables().create(StreamTableSpec.parse(sentinel, "SELECT count(*) AS n FROM " + SOURCE, "1h",
                "DIFFERENTIAL"));
        engine.streamTables().create(StreamTableSpec.parse(plain, shape.query(), "1h", "DIFFERENTIAL"));
        engine.streamTables().create(StreamTableSpec.parse(withOutbox, shape.query(), "1h", "DIFFERENTIAL"));
        engine.outboxes().enable(withOutbox);
        List<Long> plainNanos = new ArrayList<>();
        List<Long> outboxNanos = new ArrayList<>();
        long changes = -1;
        try {
            // One round untimed: the first refresh after create warms caches and plans.
            for (int round = -1; round < options.rounds(); round++) {
                change(round + 1, groups);
                engine.streamTables().refresh(sentinel);
                boolean outboxFirst = round % 2 == 0;
                RefreshResult first = engine.streamTables().refresh(outboxFirst ? withOutbox : plain);
                RefreshResult second = engine.streamTables().refresh(outboxFirst ? plain : withOutbox);
                RefreshResult p = outboxFirst ? second : first;
                RefreshResult o = outboxFirst ? first : second;
                if (p.rowsInserted() + p.rowsDeleted() != o.rowsInserted() + o.rowsDeleted()) {
                    throw new IllegalStateException(shape.label() + ": the twin refreshes applied different deltas: "
                            + p + " vs " + o);
                }
                long written = lastEntryChanges(withOutbox);
                if (changes >= 0 && written != changes) {
                    throw new IllegalStateException(shape.label() + ": outbox entries of " + changes + " and "
                            + written + " changes for the same change size");
                }
                changes = written;
                if (round >= 0) {
                    plainNanos.add(p.took().toNanos());
                    outboxNanos.add(o.took().toNanos());
                }
            }
            progress.accept(shape.label() + ": " + options.rounds() + " rounds of " + options.changedRows()
                    + " changed rows, " + changes + " outbox changes per refresh");
            return new ShapeResult(shape, Quantiles.of(plainNanos), Quantiles.of(outboxNanos), changes,
                    pairedOverheadPercent(plainNanos, outboxNanos));
        } finally {
            engine.outboxes().disable(withOutbox, true);
            engine.streamTables().drop(withOutbox);
            engine.streamTables().drop(plain);
            engine.streamTables().drop(sentinel);
        }
    }

    /** Changes {@code changedRows} rows, each in a different group, different rows each round. */
    private void change(int round, int groups) throws SQLException {
        try (Connection c = engine.dataSource().getConnection()) {
            int stride = groups / options.changedRows();
            Sql.execute(c, "UPDATE " + SOURCE + " SET v = v + 1 WHERE grp % " + stride + " = 0 AND grp < "
                    + (long) stride * options.changedRows() + " AND (id - 1) / " + groups + " = " + (round % 10));
        }
    }

    private long lastEntryChanges(String name) throws SQLException {
        try (Connection c = engine.dataSource().getConnection()) {
            return Sql.value(c, Long.class, "SELECT row_count FROM pgtrickle.pgt_outbox WHERE stream_table = ?"
                    + " ORDER BY outbox_offset DESC LIMIT 1", "public." + name);
        }
    }

    public static final List<String> HEADER = List.of("shape", "changes per refresh", "without outbox median",
            "p95", "with outbox median", "p95", "overhead", "paired overhead");

    public static List<List<String>> rows(List<ShapeResult> results) {
        return results.stream().map(r -> List.of(r.shape().label(), String.valueOf(r.changesPerRefresh()),
                Figures.millis(r.plain().medianMillis()), Figures.millis(r.plain().p95Millis()),
                Figures.millis(r.withOutbox().medianMillis()), Figures.millis(r.withOutbox().p95Millis()),
                String.format(java.util.Locale.ROOT, "%+.1f%%", r.overheadPercent()),
                String.format(java.util.Locale.ROOT, "%+.1f%%", r.pairedOverheadPercent()))).toList();
    }

    /** Writes {@code outbox-overhead.csv}. */
    public static Path write(List<ShapeResult> results, Path directory) throws IOException {
        Path csv = directory.resolve("outbox-overhead.csv");
        Csv.write(csv, List.of("shape", "changes_per_refresh", "plain_median_ms", "plain_p95_ms", "outbox_median_ms",
                "outbox_p95_ms", "overhead_percent", "paired_overhead_percent"), results.stream().map(r -> List.of(r.shape().label(),
                String.valueOf(r.changesPerRefresh()), Figures.csv(r.plain().medianMillis()),
                Figures.csv(r.plain().p95Millis()), Figures.csv(r.withOutbox().medianMillis()),
                Figures.csv(r.withOutbox().p95Millis()), Figures.csv(r.overheadPercent()),
                Figures.csv(r.pairedOverheadPercent()))).toList());
        return csv;
    }
}
