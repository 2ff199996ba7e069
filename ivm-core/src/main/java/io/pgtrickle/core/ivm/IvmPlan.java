package io.pgtrickle.core.ivm;

import io.pgtrickle.core.capture.RowDecoder;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A defining query (or a part of one: a subquery in FROM, a branch of a set operation) compiled
 * for differential maintenance. Every plan can say what it returns now and how that changed over
 * a refresh's change window, as a Z-set: rows with a weight column {@code __pgt_w}.
 */
public sealed interface IvmPlan permits SelectPlan, SetOpPlan, TopKPlan, RecursivePlan, GroupingSetsPlan {
    /** Output column names, in order. */
    List<String> names();

    /** Every base table the plan reads. */
    Set<Long> relids();

    /** How the change-buffer images of each base table the plan reads decode, by relid. */
    Map<Long, RowDecoder> decoders();

    /** A query returning the plan's rows now. */
    String currentSql();

    /** A query returning the change of the plan's rows over the window ({@code names…, __pgt_w}); null when none of its tables changed. */
    String delta(DeltaContext ctx);

    /**
     * Whether a refresh recomputes the groups the changes touch and MERGEs them by group key
     * (rather than applying the delta rows as a multiset).
     */
    default boolean keyed() {
        return false;
    }

    /** The query a FULL refresh runs, with {@code __pgt_h}; null to hash whole rows. */
    default String hashedFullQuery() {
        return null;
    }

    /**
     * Why a window changing the tables {@code changed} is cheaper to recompute than to
     * differentiate, or {@code null}: its delta would re-evaluate every row of the query both as
     * before and as now, which costs more than evaluating it once.
     */
    default String recomputeReason(Set<Long> changed) {
        return null;
    }

    /**
     * The output columns that identify a row of the result (one row per value of them), or
     * {@code null} when only the row id does; an empty list when the result has one row.
     */
    default java.util.List<String> rowKey() {
        return null;
    }

    /** How a refresh maintains this plan, for explain. */
    String strategy();

    /** The delta SQL as if every table had changes, for explain. */
    String deltaSqlForExplain();
}
