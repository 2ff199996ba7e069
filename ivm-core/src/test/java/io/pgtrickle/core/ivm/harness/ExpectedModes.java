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
        // empty: every shape is differential today; add waits("CONSTRUCT", "shape", …) for a new shape that is not
    }

    /**
     * Shapes the compiler claims but gets wrong: real bugs found by this harness, left out of the
     * runs that would refresh them differentially (FULL runs keep them) so the rest stays green.
     * Shape name → what goes wrong. Delete the line with the fix.
     */
    private static final Map<String, String> KNOWN_BUGS = Map.of();

    /**
     * Differential shapes whose filter holds a subquery no equality ties to the outer row (or a
     * grouped or nested one): a window changing its tables is recomputed (FULL), since every row
     * may flip (IvmPlan.recomputeReason).
     */
    private static final Set<String> RECOMPUTED_WHEN_SUBQUERY_CHANGES = Set.of("scalar_subquery_where", "tpch_q15",
            "tpch_q20", "tpch_q22", "view_in_exists");

    /**
     * Differential shapes IMMEDIATE refuses, shape → why: an inheritance child as a source (a
     * statement on its parent changes its rows without firing its statement triggers).
     */
    private static final Map<String, String> IMMEDIATE_REFUSED = Map.of(
            "pt_child_direct", "an inheritance child as the source");

    /** Why IMMEDIATE refuses this differential shape, or {@code null}. */
    public static String immediateRefused(String shape) {
        return IMMEDIATE_REFUSED.get(shape);
    }

    /** Whether a differential refresh of this shape may recompute the window instead. */
    public static boolean mayRecompute(String shape) {
        return RECOMPUTED_WHEN_SUBQUERY_CHANGES.contains(shape);
    }

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
        unknown.addAll(RECOMPUTED_WHEN_SUBQUERY_CHANGES);
        unknown.addAll(IMMEDIATE_REFUSED.keySet());
        shapes.forEach(s -> unknown.remove(s.name()));
        return unknown;
    }
}
