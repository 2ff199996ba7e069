package io.pgtrickle.bench.tpch;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The size of one change batch, in one of two forms:
 * <ul>
 * <li>a share of the orders table, {@code 0.1%}: that share of the orders is inserted, as many
 *     deleted and as many updated (TPC-H's refresh functions RF1 and RF2 each touch
 *     SF × 1,500 orders, 0.1% of them);</li>
 * <li>about a number of rows written, {@code 1000rows}: as many orders each way as make that many
 *     rows on average, {@value #ROWS_PER_ORDER} per order: an inserted order and its lineitems
 *     (4 on average: TPC-H gives each order 1 to 7), a deleted one and its lineitems, and an updated
 *     one, its lineitems and its customer. So {@code 1000rows} is 63 orders each way, about 1,000
 *     rows, comparable with a reference figure for "1,000 changed rows"; the bench prints the exact
 *     rows each batch wrote.</li>
 * </ul>
 *
 * @param percent 0 &lt; percent ≤ 50, or 0 when the size is in rows
 * @param rows {@value #ROWS_PER_ORDER} ≤ rows ≤ 100,000,000, or 0 when the size is a percentage
 */
public record ChangeSize(double percent, long rows) {
    /** Rows one order each way writes on average (see the class comment). */
    public static final int ROWS_PER_ORDER = 16;
    private static final Pattern ROWS = Pattern.compile("(?i)(\\d+)\\s*rows?");

    public ChangeSize {
        if (rows == 0 && (!(percent > 0) || percent > 50)) {
            throw new IllegalArgumentException("a change size must be more than 0% and at most 50%, got " + percent + "%");
        }
        if (rows != 0 && (percent != 0 || rows < ROWS_PER_ORDER || rows > 100_000_000)) {
            throw new IllegalArgumentException("a change size in rows must be between " + ROWS_PER_ORDER
                    + " (one order each way) and 100000000, got " + rows + "rows");
        }
    }

    /** A share of the orders, in percent. */
    public ChangeSize(double percent) {
        this(percent, 0);
    }

    /** About {@code rows} rows written. */
    public static ChangeSize ofRows(long rows) {
        return new ChangeSize(0, rows);
    }

    /** Whether the size is a number of rows written rather than a share of the orders. */
    public boolean inRows() {
        return rows != 0;
    }

    /**
     * Orders to insert, to delete and to update each, out of {@code orders}: at least one.
     *
     * @throws IllegalArgumentException when a size in rows needs more than half of the orders
     */
    public int ordersOf(long orders) {
        if (!inRows()) {
            return (int) Math.max(1, Math.round(orders * percent / 100));
        }
        long n = Math.max(1, Math.round((double) rows / ROWS_PER_ORDER));
        if (n > orders / 2) {
            throw new IllegalArgumentException(String.format(Locale.ROOT, "change %s needs %,d orders each way,"
                    + " more than half of the %,d orders: use a smaller size or a larger --sf", label(), n, orders));
        }
        return (int) n;
    }

    /** {@code 0.1%}, {@code 1%}, {@code 10%}, {@code 1000rows}: as given on the command line. */
    public String label() {
        if (inRows()) {
            return rows + "rows";
        }
        String number = percent == Math.rint(percent) ? Long.toString((long) percent)
                : String.format(Locale.ROOT, "%s", stripZeros(percent));
        return number + "%";
    }

    /** For chart titles: {@code a 0.1% change}, {@code a change of about 1,000 rows}. */
    public String description() {
        return inRows() ? String.format(Locale.ROOT, "a change of about %,d rows", rows) : "a " + label() + " change";
    }

    private static String stripZeros(double v) {
        return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }

    /** Parses {@code 0.1%,1%,10%,1000rows} (the percent sign is optional). */
    public static List<ChangeSize> parseList(String text) {
        List<ChangeSize> sizes = new ArrayList<>();
        for (String part : (text == null ? "" : text).split(",")) {
            String p = part.strip();
            Matcher rows = ROWS.matcher(p);
            if (rows.matches()) {
                try {
                    sizes.add(ofRows(Long.parseLong(rows.group(1))));
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("invalid change size \"" + p + "\": too many rows");
                }
                continue;
            }
            if (p.endsWith("%")) {
                p = p.substring(0, p.length() - 1).strip();
            }
            try {
                sizes.add(new ChangeSize(Double.parseDouble(p)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid change size \"" + part.strip() + "\": use percentages"
                        + " of the orders such as 0.1%,1%,10% or rows written such as 1000rows");
            }
        }
        if (sizes.isEmpty()) {
            throw new IllegalArgumentException("give at least one change size, such as 1% or 1000rows");
        }
        return List.copyOf(sizes);
    }
}
