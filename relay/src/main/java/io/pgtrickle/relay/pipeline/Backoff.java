package io.pgtrickle.relay.pipeline;

import java.time.Duration;

/** Waits that double after each failure, from {@code initial} up to {@code max}; reset on success. */
final class Backoff {
    private final Duration initial;
    private final Duration max;
    private Duration next;

    Backoff(Duration initial, Duration max) {
        this.initial = initial;
        this.max = max;
        this.next = initial;
    }

    /** The wait before the next try; doubles the one after. */
    Duration next() {
        Duration d = next;
        Duration doubled = next.multipliedBy(2);
        next = doubled.compareTo(max) > 0 ? max : doubled;
        return d;
    }

    /** Jumps to the longest wait: for errors that a quick retry will not fix. */
    Duration longest() {
        next = max;
        return max;
    }

    void reset() {
        next = initial;
    }
}
