package io.pgtrickle.core.ivm.harness;

import java.util.Arrays;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * THE place that says which shapes the compiler cannot yet maintain differentially. Every shape
 * not listed here is created in DIFFERENTIAL mode and every refresh of it must be differential;
 * each listed one is created in AUTO and must come out FULL (so a new delta rule makes the harness
 * fail until its shapes are removed from this list, which then tests them differentially).
 *
 * <p>To flip a shape once its construct is supported: delete its line.
 */
public final class ExpectedModes {
    private ExpectedModes() {
    }

    /** Shape name → the construct it waits for. */
    private static final Map<String, String> NOT_YET_DIFFERENTIAL = new LinkedHashMap<>();

    static {
        waits("outer join without GROUP BY / DISTINCT", "left_join_rows", "right_join_rows", "left_join_keyless_null_keys");
        waits("FULL OUTER JOIN", "full_join_rows", "full_join_group");
        waits("set operations", "union_all", "union_all_keyless", "union_distinct", "intersect_distinct", "intersect_all",
                "except_distinct", "except_all");
        waits("subquery in FROM", "subquery_in_from", "subquery_join_in_from", "tpch_q7", "tpch_q8", "tpch_q9", "tpch_q13",
                "tpch_q22");
        waits("non-recursive CTE", "cte_join", "cte_used_twice", "tpch_q15");
        waits("EXISTS / NOT EXISTS", "exists_where", "not_exists_where", "tpch_q4", "tpch_q21");
        waits("IN / NOT IN subquery", "in_subquery", "not_in_subquery_with_nulls", "tpch_q16", "tpch_q18", "tpch_q20");
        waits("scalar subquery", "scalar_subquery_where", "scalar_subquery_select", "tpch_q2", "tpch_q11", "tpch_q17");
        waits("window functions", "window_rank");
        waits("ORDER BY … LIMIT (top-k)", "top_k");
        waits("DISTINCT ON (parser)", "distinct_on");
        waits("WITH RECURSIVE", "ref_department_tree");
    }

    /**
     * Shapes the compiler claims but gets wrong: real bugs found by this harness, left out of the
     * runs that would refresh them differentially (FULL runs keep them) so the rest stays green.
     * Shape name → what goes wrong. Delete the line with the fix.
     */
    private static final Map<String, String> KNOWN_BUGS = Map.of(
            "projection_greatest_least", "the delta SQL spells GREATEST/LEAST as a quoted function call (\"greatest\"(…)),"
                    + " which PostgreSQL does not have: every differential refresh fails with"
                    + " 'function greatest(integer, integer) does not exist'",
            "left_join_distinct", "a NULL-padded row is neither added nor removed when its preserved row gains its first"
                    + " or loses its last match: the touched keys come from the inner-joined changes (region, bonus), never"
                    + " (region, NULL). Replay: -Dpgtrickle.seed=7 -Dpgtrickle.cycles=18, run emp-dept/expected,"
                    + " cycle 18: missing (west, NULL)");

    /** What goes wrong when this shape refreshes differentially, or {@code null} when nothing known does. */
    public static String knownBug(String shape) {
        return KNOWN_BUGS.get(shape);
    }

    private static void waits(String construct, String... shapes) {
        for (String shape : shapes) {
            if (NOT_YET_DIFFERENTIAL.put(shape, construct) != null) {
                throw new IllegalStateException("shape " + shape + " listed twice");
            }
        }
    }

    /**
     * Whether a shape is expected to refresh differentially. {@code -Dpgtrickle.differential=a,b}
     * (or {@code =all}) treats listed shapes as differential without editing the list: a way to
     * try new delta rules before flipping their flags here.
     */
    public static boolean differentialToday(String shape) {
        if (!NOT_YET_DIFFERENTIAL.containsKey(shape)) {
            return true;
        }
        String override = System.getProperty("pgtrickle.differential", "").strip();
        return override.equals("all") || Arrays.asList(override.split("\\s*,\\s*")).contains(shape);
    }

    /** The construct a shape waits for, or {@code null} when it is differential today. */
    public static String waitingFor(String shape) {
        return NOT_YET_DIFFERENTIAL.get(shape);
    }

    /** Names listed here that no workload defines: a typo would otherwise silently test nothing. */
    public static Set<String> unknown(Collection<Shape> shapes) {
        Set<String> unknown = new TreeSet<>(NOT_YET_DIFFERENTIAL.keySet());
        unknown.addAll(KNOWN_BUGS.keySet());
        shapes.forEach(s -> unknown.remove(s.name()));
        return unknown;
    }
}
