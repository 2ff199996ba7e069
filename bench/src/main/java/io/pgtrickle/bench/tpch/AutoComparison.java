package io.pgtrickle.bench.tpch;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * How AUTO compares with the better of DIFFERENTIAL and FULL (issue 11's target: never more than
 * {@link #LIMIT} times slower). AUTO cannot know which is faster before it runs; this measures how
 * well its cost model guessed.
 */
public final class AutoComparison {
    /** AUTO slower than the better of the two by more than this is flagged. */
    public static final double LIMIT = 1.2;

    private AutoComparison() {
    }

    /**
     * The faster of the DIFFERENTIAL and the FULL time; the one measured when the other is NaN
     * (a FULL-only query, a failed refresh), NaN when neither was.
     */
    public static double best(double diffMillis, double fullMillis) {
        if (Double.isNaN(diffMillis)) {
            return fullMillis;
        }
        if (Double.isNaN(fullMillis)) {
            return diffMillis;
        }
        return Math.min(diffMillis, fullMillis);
    }

    /** auto / best(diff, full): 1 when AUTO matched the better one, NaN when a figure is missing. */
    public static double ratio(double autoMillis, double diffMillis, double fullMillis) {
        double best = best(diffMillis, fullMillis);
        return Double.isNaN(autoMillis) || Double.isNaN(best) || best <= 0 ? Double.NaN : autoMillis / best;
    }

    /** Whether {@code ratio} misses the target; false for a missing ratio (nothing to judge). */
    public static boolean tooSlow(double ratio) {
        return !Double.isNaN(ratio) && ratio > LIMIT;
    }

    /**
     * What AUTO did over several cycles: the action when it was always the same ({@code FULL}),
     * else each with its count in order of first appearance ({@code DIFFERENTIAL 2, FULL 1});
     * empty when it never ran.
     */
    public static String actions(List<String> actions) {
        Map<String, Long> counts = actions.stream().filter(Objects::nonNull)
                .collect(Collectors.groupingBy(a -> a, LinkedHashMap::new, Collectors.counting()));
        if (counts.size() <= 1) {
            return counts.keySet().stream().findFirst().orElse("");
        }
        return counts.entrySet().stream().map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
    }
}
