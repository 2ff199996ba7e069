package io.pgtrickle.cli;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.Locale;

/** How durations and times read in the command's output. */
final class Formats {
    private static final DateTimeFormatter TIMESTAMP = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");

    private Formats() {
    }

    /** Seconds, to the hundredth below ten: {@code 0.04 s}, {@code 1.40 s}, {@code 12 s}. */
    static String seconds(Duration d) {
        double s = d.toNanos() / 1e9;
        return s < 9.995 ? String.format(Locale.ROOT, "%.2f s", s) : String.format(Locale.ROOT, "%d s", Math.round(s));
    }

    /** An age such as a staleness: {@code 0.8s}, {@code 45s}, {@code 3m05s}, {@code 2h07m}, {@code 3d04h}. */
    static String age(Duration d) {
        if (d == null) {
            return "";
        }
        long ms = Math.max(0, d.toMillis());
        if (ms < 10_000) {
            return String.format(Locale.ROOT, "%.1fs", ms / 1000.0);
        }
        long s = ms / 1000;
        if (s < 60) {
            return s + "s";
        }
        if (s < 3600) {
            return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
        }
        if (s < 86_400) {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
        }
        return String.format(Locale.ROOT, "%dd%02dh", s / 86_400, (s % 86_400) / 3600);
    }

    /** A timestamp in this machine's time zone, to the second; empty for {@code null}. */
    static String timestamp(OffsetDateTime t) {
        return t == null ? "" : t.atZoneSameInstant(ZoneId.systemDefault()).format(TIMESTAMP);
    }

    /**
     * A size in bytes the way {@code pg_size_pretty} reads (1024-based): {@code 0 B}, {@code 812 B},
     * {@code 16 kB}, {@code 1.5 MB}; one decimal below ten units; empty for {@code null}.
     */
    static String bytes(Long bytes) {
        if (bytes == null) {
            return "";
        }
        long b = bytes;
        if (Math.abs(b) < 1024) {
            return b + " B";
        }
        String[] units = {"kB", "MB", "GB", "TB", "PB"};
        double value = b;
        int unit = -1;
        do {
            value /= 1024;
            unit++;
        } while (Math.abs(value) >= 1023.95 && unit < units.length - 1);
        return Math.abs(value) < 9.95 ? String.format(Locale.ROOT, "%.1f %s", value, units[unit])
                : String.format(Locale.ROOT, "%d %s", Math.round(value), units[unit]);
    }

    /** {@code text} cut to {@code max} characters on one line, with "..." when cut; empty for {@code null}. */
    static String abbreviate(String text, int max) {
        if (text == null) {
            return "";
        }
        String line = text.replaceAll("\\s+", " ").strip();
        return line.length() <= max ? line : line.substring(0, Math.max(0, max - 3)) + "...";
    }
}
