package io.pgtrickle.core.refresh;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Milliseconds spent in each phase of one refresh, lapped in order on the refreshing thread.
 * Each lap ends the phase that began where the previous one ended, so the phases never overlap
 * and their sum never exceeds the refresh's duration.
 */
final class PhaseTimer {
    private final Map<String, Long> nanos = new LinkedHashMap<>();
    private long lapStart;

    PhaseTimer(long startNanos) {
        this.lapStart = startNanos;
    }

    /** Ends {@code phase} now; the next phase starts here. */
    void lap(String phase) {
        long now = System.nanoTime();
        nanos.merge(phase, now - lapStart, Long::sum);
        lapStart = now;
    }

    /** Leaves {@code nanos} of the current phase out of it (time spent on something else meanwhile). */
    void exclude(long nanos) {
        lapStart += nanos;
    }

    /** The phases as a JSON object of milliseconds (microsecond precision), in lap order. */
    String json() {
        return nanos.entrySet().stream()
                .map(e -> String.format(Locale.ROOT, "\"%s\": %.3f", e.getKey(), e.getValue() / 1e6))
                .collect(Collectors.joining(", ", "{", "}"));
    }
}
