package io.pgtrickle.cli.bench;

import java.util.Arrays;
import java.util.Collection;

/** Durations in nanoseconds recorded by one thread, merged afterwards for percentiles. Not thread-safe. */
public final class LatencySamples {
    /** At most this many samples are kept per recorder (32 MB); later ones are counted but not kept. */
    static final int MAX_SAMPLES = 4_000_000;

    private long[] values = new long[1024];
    private int size;
    private long dropped;

    public void add(long nanos) {
        if (size == values.length) {
            if (size >= MAX_SAMPLES) {
                dropped++;
                return;
            }
            values = Arrays.copyOf(values, Math.min(MAX_SAMPLES, size * 2));
        }
        values[size++] = nanos;
    }

    public int size() {
        return size;
    }

    public long dropped() {
        return dropped;
    }

    /** All samples of {@code parts} in one, sorted. */
    public static LatencySamples merge(Collection<LatencySamples> parts) {
        LatencySamples all = new LatencySamples();
        int total = parts.stream().mapToInt(LatencySamples::size).sum();
        all.values = new long[Math.max(1, total)];
        for (LatencySamples p : parts) {
            System.arraycopy(p.values, 0, all.values, all.size, p.size);
            all.size += p.size;
            all.dropped += p.dropped;
        }
        Arrays.sort(all.values, 0, all.size);
        return all;
    }

    /**
     * The {@code p}-quantile (0..1) by linear interpolation between closest ranks, as PostgreSQL's
     * {@code percentile_cont} computes it; samples must be sorted ({@link #merge}). NaN when empty.
     */
    public double percentileNanos(double p) {
        if (size == 0) {
            return Double.NaN;
        }
        double rank = p * (size - 1);
        int lo = (int) Math.floor(rank);
        int hi = (int) Math.ceil(rank);
        return values[lo] + (values[hi] - values[lo]) * (rank - lo);
    }
}
