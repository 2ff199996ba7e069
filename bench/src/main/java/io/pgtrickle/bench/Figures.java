package io.pgtrickle.bench;

import java.util.Locale;

/** How figures are written in tables and CSV: milliseconds with three significant digits, ratios. */
public final class Figures {
    private Figures() {
    }

    /** Milliseconds with about three significant digits: 0.052, 1.23, 12.3, 123; "n/a" for NaN. */
    public static String millis(double ms) {
        if (Double.isNaN(ms)) {
            return "n/a";
        }
        String format = ms < 1 ? "%.3f" : ms < 10 ? "%.2f" : ms < 100 ? "%.1f" : "%.0f";
        return String.format(Locale.ROOT, format, ms);
    }

    /** A ratio such as 12.3x or 0.52x; "n/a" when either side is missing or the divisor is zero. */
    public static String ratio(double numerator, double denominator) {
        if (Double.isNaN(numerator) || Double.isNaN(denominator) || denominator <= 0) {
            return "n/a";
        }
        double r = numerator / denominator;
        return String.format(Locale.ROOT, r < 0.1 ? "%.3fx" : r < 10 ? "%.2fx" : "%.1fx", r);
    }

    /** A plain number for CSV: fixed notation, up to three decimals, empty for NaN. */
    public static String csv(double value) {
        return Double.isNaN(value) ? "" : String.format(Locale.ROOT, "%.3f", value);
    }

    /** A duration in seconds for messages: {@code 60 s}, {@code 2.5 s}. */
    public static String seconds(java.time.Duration d) {
        double s = d.toMillis() / 1000.0;
        return (s == Math.rint(s) ? Long.toString((long) s) : String.format(Locale.ROOT, "%.1f", s)) + " s";
    }

    /** A number without needless zeros: {@code 0.01}, {@code 1}, {@code 2.5}. */
    public static String plain(double v) {
        return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }

    /** A rate such as rows/s, to one decimal. */
    public static String rate(double perSecond) {
        return Double.isNaN(perSecond) ? "n/a" : String.format(Locale.ROOT, "%.1f", perSecond);
    }
}
