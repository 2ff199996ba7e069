package io.pgtrickle.core.refresh;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalDouble;

/**
 * AUTO's choice between a differential and a FULL refresh, learnt from the stream table's own
 * refresh history: a FULL refresh costs about what recent FULL refreshes took; a differential one
 * about its recent cost per changed row times the rows in the window. Per-row costs are learnt
 * only from windows large enough for the per-row work to dominate a refresh's fixed overhead
 * (temporary tables, catalog reads); small windows always refresh differentially. Until the
 * per-change cost is measured, an assumed one is used; without any FULL timing, the share of
 * changed rows decides (a delta joins every change against the other tables).
 */
final class RefreshCostModel {
    /** Above this ratio of changed rows to source rows, recomputing is assumed cheaper. */
    static final double FULL_REFRESH_CHANGE_RATIO = 0.25;
    /** A differential refresh must be predicted this much slower before FULL is chosen (no flapping). */
    static final double MARGIN = 1.2;
    private static final int HISTORY = 20;
    /** Windows smaller than this are differential whatever the model says; larger ones teach the per-row cost. */
    static final long MIN_ROWS = 100;

    /** What the model saw: the choice and the figures behind it, for the log. */
    record Decision(boolean full, String reason) {
    }

    /** Recent timings of one stream table. */
    record History(List<Double> fullMillis, List<Double> differentialMillisPerRow) {
        OptionalDouble fullCost() {
            return median(fullMillis);
        }

        OptionalDouble perRowCost() {
            return median(differentialMillisPerRow);
        }
    }

    private RefreshCostModel() {
    }

    /**
     * The cost of one change, in ms, assumed until the stream table's own differential refreshes
     * have measured it: decoding its image and joining it, as measured on TPC-H at scale factor 1
     * on a two-core machine (0.007–0.022 ms per change at 0.1 % and 1 %, docs/benchmarks.md).
     */
    static final double PRIOR_MS_PER_CHANGE = 0.015;

    static Decision decide(History history, long windowRows, double sourceRows) {
        if (windowRows < MIN_ROWS) {
            return new Decision(false, windowRows + " changes: always differential");
        }
        OptionalDouble full = history.fullCost();
        OptionalDouble perRow = history.perRowCost();
        if (full.isPresent()) {
            // A FULL cost is known from the populating refresh on; the per-change cost needs refreshes.
            double perChange = perRow.isPresent() ? perRow.getAsDouble() : PRIOR_MS_PER_CHANGE;
            double predicted = perChange * windowRows;
            // Until the per-change cost is measured, a large share of changed rows means FULL too.
            boolean choose = predicted > MARGIN * full.getAsDouble() || perRow.isEmpty() && sourceRows > 0
                    && windowRows > FULL_REFRESH_CHANGE_RATIO * sourceRows;
            return new Decision(choose, String.format(java.util.Locale.ROOT,
                    "%d changes × %.3f ms/change (%s) ≈ %.1f ms differential vs %.1f ms FULL (measured)",
                    windowRows, perChange, perRow.isPresent() ? "measured" : "assumed", predicted,
                    full.getAsDouble()));
        }
        boolean choose = sourceRows > 0 && windowRows > FULL_REFRESH_CHANGE_RATIO * sourceRows;
        return new Decision(choose, String.format(java.util.Locale.ROOT, "%d changes against ~%.0f source rows"
                + " (no timings yet)", windowRows, sourceRows));
    }

    /**
     * The smallest window {@link #decide} refreshes FULL ({@code Long.MAX_VALUE} if none): decide is
     * monotonic in the window's size, so a window can be counted up to this and no further.
     */
    static long breakEven(History history, double sourceRows) {
        long byShare = sourceRows > 0 ? (long) Math.floor(FULL_REFRESH_CHANGE_RATIO * sourceRows) + 1 : Long.MAX_VALUE;
        long threshold = byShare;
        OptionalDouble full = history.fullCost();
        if (full.isPresent()) {
            OptionalDouble perRow = history.perRowCost();
            double perChange = perRow.isPresent() ? perRow.getAsDouble() : PRIOR_MS_PER_CHANGE;
            double rows = perChange > 0 ? Math.floor(MARGIN * full.getAsDouble() / perChange) + 1 : Double.MAX_VALUE;
            long byCost = rows >= Long.MAX_VALUE ? Long.MAX_VALUE : (long) rows;
            threshold = perRow.isPresent() ? byCost : Math.min(byCost, byShare);
        }
        return Math.max(MIN_ROWS, threshold);
    }

    static History load(Connection c, long pgtId) throws SQLException {
        List<Double> full = new ArrayList<>();
        List<Double> perRow = new ArrayList<>();
        try (var ps = c.prepareStatement("SELECT action, extract(epoch FROM finished_at - started_at) * 1000, window_rows"
                + " FROM pgtrickle.pgt_refresh_history WHERE pgt_id = ? AND status = 'SUCCESS'"
                + " ORDER BY refresh_id DESC LIMIT " + HISTORY)) {
            ps.setLong(1, pgtId);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    double millis = rs.getDouble(2);
                    long rows = rs.getLong(3);
                    if ("FULL".equals(rs.getString(1))) {
                        full.add(millis);
                    } else if (rows >= MIN_ROWS) {
                        perRow.add(millis / rows);
                    }
                }
            }
        }
        return new History(full, perRow);
    }

    static OptionalDouble median(List<Double> values) {
        if (values.isEmpty()) {
            return OptionalDouble.empty();
        }
        List<Double> sorted = values.stream().sorted().toList();
        int n = sorted.size();
        return OptionalDouble.of(n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2);
    }
}
