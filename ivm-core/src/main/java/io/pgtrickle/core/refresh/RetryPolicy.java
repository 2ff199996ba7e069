package io.pgtrickle.core.refresh;

import java.time.Duration;

/**
 * Back-off after failed refreshes: {@code base * 2^(n-1)} capped at {@code max}, and suspension
 * after {@code suspendAfter} consecutive failures.
 */
public record RetryPolicy(Duration base, Duration max, int suspendAfter) {
    public RetryPolicy {
        if (base.isNegative() || max.compareTo(base) < 0) {
            throw new IllegalArgumentException("need 0 <= base <= max, got base " + base + ", max " + max);
        }
        if (suspendAfter < 1) {
            throw new IllegalArgumentException("suspendAfter must be at least 1, got " + suspendAfter);
        }
    }

    public static RetryPolicy defaults() {
        return new RetryPolicy(Duration.ofSeconds(1), Duration.ofMinutes(5), 5);
    }

    /** The pause before the next attempt after the {@code failures}-th consecutive failure. */
    public Duration backoffAfter(int failures) {
        int shift = Math.min(Math.max(failures - 1, 0), 30);
        Duration d = base.multipliedBy(1L << shift);
        return d.compareTo(max) > 0 ? max : d;
    }
}
