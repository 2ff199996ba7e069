package io.pgtrickle.core.schedule;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import java.time.Duration;
import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * When a stream table wants to be fresh: every fixed duration, at the times of a cron expression,
 * or as often as its readers need.
 */
public sealed interface Schedule permits Schedule.Every, Schedule.Calculated, CronSchedule {
    Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h|d)");
    Duration MINIMUM = Duration.ofMillis(100);

    /** Refresh when the contents are older than {@code interval}. */
    record Every(Duration interval) implements Schedule {
        public Every {
            Objects.requireNonNull(interval, "interval");
            if (interval.compareTo(MINIMUM) < 0) {
                throw new PgTrickleException(ErrorCode.INVALID_SCHEDULE,
                        "schedule " + interval + " is shorter than the minimum of 100ms");
            }
        }

        @Override
        public Optional<Duration> period() {
            return Optional.of(interval);
        }

        @Override
        public String text() {
            StringBuilder s = new StringBuilder();
            long ms = interval.toMillis();
            long[] units = {86_400_000L, 3_600_000L, 60_000L, 1_000L, 1L};
            String[] names = {"d", "h", "m", "s", "ms"};
            for (int i = 0; i < units.length; i++) {
                if (ms >= units[i]) {
                    s.append(ms / units[i]).append(names[i]);
                    ms %= units[i];
                }
            }
            return s.toString();
        }
    }

    /** CALCULATED: inherit the tightest schedule of the stream tables that read this one. */
    record Calculated() implements Schedule {
        @Override
        public String text() {
            return "calculated";
        }
    }

    /** Canonical text, stored in the catalog and accepted by {@link #parse}. */
    String text();

    /**
     * Parses {@code 30s}, {@code 5m}, {@code 1h30m}, {@code 250ms}, {@code 1d} or {@code calculated}
     * (also {@code null}).
     */
    static Schedule parse(String text) {
        if (text == null || text.strip().equalsIgnoreCase("calculated")) {
            return new Calculated();
        }
        if (CronSchedule.looksLikeCron(text)) {
            return CronSchedule.parse(text);
        }
        String s = text.strip().toLowerCase(Locale.ROOT);
        Matcher m = DURATION.matcher(s);
        Duration total = Duration.ZERO;
        int at = 0;
        while (at < s.length() && m.find(at) && m.start() == at) {
            long n;
            try {
                n = Long.parseLong(m.group(1));
            } catch (NumberFormatException e) {
                throw invalid(text);
            }
            total = total.plus(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            });
            at = m.end();
        }
        if (s.isEmpty() || at != s.length()) {
            throw invalid(text);
        }
        return new Every(total);
    }

    private static PgTrickleException invalid(String text) {
        return new PgTrickleException(ErrorCode.INVALID_SCHEDULE, "invalid schedule \"" + text + "\": use a duration"
                + " such as 30s, 5m or 1h30m, a cron expression such as '*/5 * * * *' or '@hourly', or 'calculated'");
    }

    /**
     * The interval that readers' CALCULATED sources inherit: the duration, or a cron schedule's
     * shortest gap between firings; empty for CALCULATED itself.
     */
    default Optional<Duration> period() {
        return Optional.empty();
    }

    /**
     * Whether a stream table last refreshed at {@code lastRefresh} ({@code null}: never) is due at
     * {@code now} by this schedule alone.
     */
    default boolean dueAt(Instant lastRefresh, Instant now) {
        Optional<Duration> every = period();
        return every.isPresent() && (lastRefresh == null || !now.isBefore(lastRefresh.plus(every.get())));
    }
}
