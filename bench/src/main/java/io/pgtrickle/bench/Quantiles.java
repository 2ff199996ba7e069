package io.pgtrickle.bench;

import java.util.Arrays;
import java.util.Collection;

/**
 * Summary figures of a set of durations in nanoseconds: median, p95, p99 and max, by linear
 * interpolation between closest ranks (as PostgreSQL's {@code percentile_cont} computes them).
 * Immutable; the samples are copied and sorted once.
 */
public final class Quantiles {
    private final long[] sorted;

    private Quantiles(long[] sorted) {
        this.sorted = sorted;
    }

    public static Quantiles of(long... nanos) {
        long[] copy = nanos.clone();
        Arrays.sort(copy);
        return new Quantiles(copy);
    }

    public static Quantiles of(Collection<Long> nanos) {
        return of(nanos.stream().mapToLong(Long::longValue).toArray());
    }

    public int count() {
        return sorted.length;
    }

    /** The {@code p}-quantile (0..1) in nanoseconds; NaN when there are no samples. */
    public double nanos(double p) {
        if (p < 0 || p > 1) {
            throw new IllegalArgumentException("quantile must be within 0..1, got " + p);
        }
        if (sorted.length == 0) {
            return Double.NaN;
        }
        double rank = p * (sorted.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = (int) Math.ceil(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    public double medianMillis() {
        return nanos(0.5) / 1e6;
    }

    public double p95Millis() {
        return nanos(0.95) / 1e6;
    }

    public double p99Millis() {
        return nanos(0.99) / 1e6;
    }

    public double maxMillis() {
        return sorted.length == 0 ? Double.NaN : sorted[sorted.length - 1] / 1e6;
    }

    public double meanMillis() {
        return sorted.length == 0 ? Double.NaN : Arrays.stream(sorted).average().orElse(Double.NaN) / 1e6;
    }
}
