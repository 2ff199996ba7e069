package io.pgtrickle.bench;

import java.time.Duration;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as the command line writes them: {@code 20s}, {@code 1m}, {@code 1m30s}, {@code 500ms},
 * {@code 2h}; {@code 0} alone means zero. The same units as schedules, but zero is allowed.
 */
public final class DurationText {
    private static final Pattern PART = Pattern.compile("(\\d{1,9})(ms|s|m|h)");

    private DurationText() {
    }

    /** Parses {@code text}; throws {@link IllegalArgumentException} with a readable message otherwise. */
    public static Duration parse(String text) {
        String s = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = PART.matcher(s);
        Duration total = Duration.ZERO;
        int at = 0;
        while (at < s.length() && m.find(at) && m.start() == at) {
            long n = Long.parseLong(m.group(1));
            total = total.plus(switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                default -> Duration.ofHours(n);
            });
            at = m.end();
        }
        if (s.isEmpty() || at != s.length()) {
            throw new IllegalArgumentException("invalid duration \"" + text + "\": use e.g. 20s, 1m, 1m30s or 500ms");
        }
        return total;
    }

    /** The shortest text {@link #parse} reads back as {@code d}: {@code 20s}, {@code 1m30s}, {@code 0s}. */
    public static String format(Duration d) {
        long ms = d.toMillis();
        if (ms == 0) {
            return "0s";
        }
        StringBuilder s = new StringBuilder();
        long[] units = {3_600_000L, 60_000L, 1_000L, 1L};
        String[] names = {"h", "m", "s", "ms"};
        for (int i = 0; i < units.length; i++) {
            if (ms >= units[i]) {
                s.append(ms / units[i]).append(names[i]);
                ms %= units[i];
            }
        }
        return s.toString();
    }
}
