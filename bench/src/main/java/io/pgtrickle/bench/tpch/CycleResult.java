package io.pgtrickle.bench.tpch;

/**
 * The measurements of one query after one change batch. Times are wall-clock milliseconds around
 * the call, NaN when not measured (FULL-only queries have no DIFFERENTIAL figure; a failed step
 * has none).
 *
 * @param diffAction what the DIFFERENTIAL stream table's refresh did ("DIFFERENTIAL", or "FULL"
 *     when the engine fell back), or {@code null}
 * @param diffRows rows the DIFFERENTIAL refresh inserted plus deleted
 * @param invariantHeld whether both stream tables equalled a fresh run of the query afterwards
 * @param error what failed (a refresh, or the invariant, with the number of differing rows), or {@code null}
 */
public record CycleResult(String query, ChangeSize change, int cycle, double diffMillis, String diffAction,
                          long diffRows, double fullMillis, double mvMillis, boolean invariantHeld, String error) {
}
