package io.pgtrickle.bench.tpch;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The size of one change batch as a share of the orders table: {@code 0.1%} is the size of the
 * TPC-H refresh functions (RF1 and RF2 each touch SF × 1,500 orders, 0.1% of them).
 *
 * @param percent 0 &lt; percent ≤ 50
 */
public record ChangeSize(double percent) {
    public ChangeSize {
        if (!(percent > 0) || percent > 50) {
            throw new IllegalArgumentException("a change size must be more than 0% and at most 50%, got " + percent + "%");
        }
    }

    /** Orders to insert, to delete and to update each, out of {@code orders}: at least one. */
    public int ordersOf(long orders) {
        return (int) Math.max(1, Math.round(orders * percent / 100));
    }

    /** {@code 0.1%}, {@code 1%}, {@code 10%}. */
    public String label() {
        String number = percent == Math.rint(percent) ? Long.toString((long) percent)
                : String.format(Locale.ROOT, "%s", stripZeros(percent));
        return number + "%";
    }

    private static String stripZeros(double v) {
        return new java.math.BigDecimal(Double.toString(v)).stripTrailingZeros().toPlainString();
    }

    /** Parses {@code 0.1%,1%,10%} (the percent sign is optional). */
    public static List<ChangeSize> parseList(String text) {
        List<ChangeSize> sizes = new ArrayList<>();
        for (String part : (text == null ? "" : text).split(",")) {
            String p = part.strip();
            if (p.endsWith("%")) {
                p = p.substring(0, p.length() - 1).strip();
            }
            try {
                sizes.add(new ChangeSize(Double.parseDouble(p)));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("invalid change size \"" + part.strip() + "\": use percentages"
                        + " of the orders such as 0.1%,1%,10%");
            }
        }
        if (sizes.isEmpty()) {
            throw new IllegalArgumentException("give at least one change size, such as 1%");
        }
        return List.copyOf(sizes);
    }
}
