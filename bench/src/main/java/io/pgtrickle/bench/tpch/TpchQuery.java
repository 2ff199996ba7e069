package io.pgtrickle.bench.tpch;

import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * One of the 22 TPC-H queries as a stream table defines it.
 *
 * @param number 1 to 22
 * @param sql the defining query: the standard text with {@code adaptations} applied
 * @param adaptations what was changed from the standard text and why, for the report; empty when nothing
 */
public record TpchQuery(int number, String sql, List<String> adaptations) {
    public TpchQuery {
        if (number < 1 || number > TpchQueries.COUNT) {
            throw new IllegalArgumentException("TPC-H queries are numbered 1 to 22, got " + number);
        }
        Objects.requireNonNull(sql, "sql");
        adaptations = List.copyOf(adaptations);
    }

    /** {@code q01} … {@code q22}: sorts in query order, and names the benchmark's objects. */
    public String id() {
        return String.format(Locale.ROOT, "q%02d", number);
    }

    /** The short label of reports and charts: {@code q1} … {@code q22}. */
    public String label() {
        return "q" + number;
    }
}
