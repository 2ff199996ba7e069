package io.pgtrickle.bench.tpch;

/**
 * The measurements of one query after one change batch. Times are wall-clock milliseconds around
 * the call, NaN when not measured (FULL-only queries have no DIFFERENTIAL figure; a failed step
 * has none).
 *
 * @param diffAction what the DIFFERENTIAL stream table's refresh did ("DIFFERENTIAL", or "FULL"
 *     when the engine fell back), or {@code null}
 * @param diffRows rows the DIFFERENTIAL refresh inserted plus deleted
 * @param autoMillis the AUTO stream table's refresh, timed after the materialized view; NaN without AUTO
 * @param autoAction what AUTO chose for that refresh ("DIFFERENTIAL" or "FULL"), or {@code null}
 * @param invariantHeld whether every stream table equalled a fresh run of the query afterwards
 * @param error what failed (a refresh, or the invariant, with the number of differing rows), or {@code null}
 */
public record CycleResult(String query, ChangeSize change, int cycle, double diffMillis, String diffAction,
                          long diffRows, double fullMillis, double mvMillis, double autoMillis, String autoAction,
                          boolean invariantHeld, String error) {
    /** AUTO's time over the better of DIFFERENTIAL and FULL in this cycle ({@link AutoComparison#ratio}). */
    public double autoOverBest() {
        return AutoComparison.ratio(autoMillis, diffMillis, fullMillis);
    }
}
