package io.pgtrickle.core.ivm.harness;

import java.time.Duration;
import java.util.Locale;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How much randomized work a run does: a fixed number of cycles (CI), or as many as fit in a
 * duration (a long run). The seed makes either replayable.
 *
 * @param seed the seed every run derives its random numbers from
 * @param cycles cycles per run when no duration is given
 * @param duration total time of the whole harness, shared among its runs, or {@code null}
 */
public record Budget(long seed, int cycles, Duration duration) {
    public static final long DEFAULT_SEED = 20261121L;
    public static final int DEFAULT_CYCLES = 6;
    /** How long a run may take beyond its share of the duration before it counts as hung. */
    private static final Duration GRACE = Duration.ofMinutes(5);

    public Budget {
        if (cycles < 1) {
            throw new IllegalArgumentException("pgtrickle.cycles must be at least 1, got " + cycles);
        }
        if (duration != null && (duration.isNegative() || duration.isZero())) {
            throw new IllegalArgumentException("pgtrickle.duration must be positive, got " + duration);
        }
    }

    /** {@code -Dpgtrickle.seed=N}, {@code -Dpgtrickle.cycles=N}, {@code -Dpgtrickle.duration=30m}. */
    public static Budget fromSystemProperties() {
        String duration = System.getProperty("pgtrickle.duration");
        return new Budget(Long.getLong("pgtrickle.seed", DEFAULT_SEED), Integer.getInteger("pgtrickle.cycles", DEFAULT_CYCLES),
                duration == null || duration.isBlank() ? null : parseDuration(duration));
    }

    /** {@code 90s}, {@code 10m}, {@code 1h30m}, {@code 500ms}, a bare number of seconds, or ISO-8601 ({@code PT10M}). */
    static Duration parseDuration(String text) {
        String s = text.strip().toLowerCase(Locale.ROOT);
        if (s.startsWith("p")) {
            return Duration.parse(s.toUpperCase(Locale.ROOT));
        }
        if (s.matches("\\d+")) {
            return Duration.ofSeconds(Long.parseLong(s));
        }
        Matcher m = Pattern.compile("(\\d+)(ms|h|m|s)").matcher(s);
        Duration total = Duration.ZERO;
        int end = 0;
        while (m.find() && m.start() == end) {
            long n = Long.parseLong(m.group(1));
            total = total.plus(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            });
            end = m.end();
        }
        if (end == 0 || end != s.length()) {
            throw new IllegalArgumentException("pgtrickle.duration: cannot read \"" + text + "\" (use 90s, 10m, 1h30m)");
        }
        return total;
    }

    /** The budget of one run that gets {@code fraction} of the total duration (cycles unchanged). */
    public Budget share(double fraction) {
        return duration == null ? this : new Budget(seed, cycles, Duration.ofMillis(Math.max(1, (long) (duration.toMillis() * fraction))));
    }

    /** The budget with at most {@code n} cycles: cheaper runs (other modes) do fewer. */
    public Budget withCycles(int n) {
        return new Budget(seed, Math.max(1, n), duration);
    }

    /** Whether a run that started at {@code startNanos} and did {@code done} cycles goes on. */
    public boolean more(int done, long startNanos) {
        if (duration == null) {
            return done < cycles;
        }
        return done == 0 || System.nanoTime() - startNanos < duration.toNanos();
    }

    /** A bound after which a run counts as hung: generous, and scaled with the duration. */
    public Duration timeout() {
        return duration == null ? GRACE : duration.plus(GRACE);
    }

    /** The random numbers of one named run: independent of which other runs ran before it. */
    public Random random(String run) {
        return new Random(seed * 1_000_003L + run.hashCode());
    }

    @Override
    public String toString() {
        return "seed " + seed + (duration == null ? ", " + cycles + " cycles" : ", duration " + duration);
    }
}
