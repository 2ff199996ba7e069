package io.pgtrickle.core.ivm;

import io.pgtrickle.core.sql.Identifiers;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * The clock's move between two refreshes of a stream table with a {@link ClockFilter}: the
 * previous refresh's instant, this one's, and per comparison with the clock the range of column
 * values whose rows may change truth between them. The range is {@code [least, greatest]} of the
 * clock side's two values, so it holds when the clock moved back too: it is the same range, and
 * the sign of each row's change comes from evaluating the filter at both instants.
 *
 * @param before the previous refresh's clock, as a timestamptz SQL literal
 * @param now this refresh's clock, as a timestamptz SQL literal
 * @param candidates per {@link ClockFilter#bounds()} entry, a condition true of every row whose
 *     comparison may flip (literal bounds, so an index on the column serves it)
 */
public record ClockMove(String before, String now, List<String> candidates) {
    public ClockMove {
        candidates = List.copyOf(candidates);
    }

    /** The rows that may flip: any comparison's range (those that cannot flip left out, so the others' indexes serve). */
    String candidateSql() {
        List<String> ranges = candidates.stream().filter(r -> !r.equals("false")).toList();
        return ranges.isEmpty() ? "false" : "(" + String.join(" OR ", ranges) + ")";
    }

    /** Whether no row can flip (the clock stood still). */
    public boolean still() {
        return before.equals(now);
    }

    /**
     * Evaluates each comparison's clock side at both instants, in one statement, in the refresh
     * transaction (its session time zone is the one the instants' casts use).
     *
     * @param before the previous refresh's clock (timestamptz text as this session prints it)
     * @param now this refresh's clock, likewise
     */
    public static ClockMove compute(Connection c, ClockFilter filter, String before, String now) throws SQLException {
        String old = "CAST(" + Identifiers.literal(before) + " AS timestamptz)";
        String neu = "CAST(" + Identifiers.literal(now) + " AS timestamptz)";
        List<ClockFilter.Bound> bounds = filter.bounds();
        if (bounds.isEmpty() || before.equals(now)) {
            return new ClockMove(old, neu, bounds.stream().map(b -> "false").toList());
        }
        StringBuilder sql = new StringBuilder("SELECT ");
        for (int i = 0; i < bounds.size(); i++) {
            String o = ClockFilter.substitute(bounds.get(i).clock(), old);
            String n = ClockFilter.substitute(bounds.get(i).clock(), neu);
            sql.append(i == 0 ? "" : ", ").append("least(").append(o).append(", ").append(n).append(")::text, greatest(")
                    .append(o).append(", ").append(n).append(")::text, pg_typeof(").append(n).append(")::text, (")
                    .append(o).append(") IS NULL, (").append(n).append(") IS NULL, (").append(o)
                    .append(") IS NOT DISTINCT FROM (").append(n).append(")");
        }
        List<String> candidates = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql.toString())) {
            rs.next();
            for (int i = 0; i < bounds.size(); i++) {
                int at = 6 * i;
                String column = bounds.get(i).column();
                boolean oldNull = rs.getBoolean(at + 4);
                boolean newNull = rs.getBoolean(at + 5);
                if (rs.getBoolean(at + 6)) {
                    // The same value at both instants (current_date within a day): this comparison cannot flip.
                    candidates.add("false");
                } else if (oldNull && newNull) {
                    candidates.add("false"); // NULL at both instants: the comparison is never true
                } else if (oldNull || newNull) {
                    candidates.add("(" + column + ") IS NOT NULL"); // from unknown to known: every row may flip
                } else {
                    String type = rs.getString(at + 3);
                    candidates.add("(" + column + ") BETWEEN CAST(" + Identifiers.literal(rs.getString(at + 1)) + " AS "
                            + type + ") AND CAST(" + Identifiers.literal(rs.getString(at + 2)) + " AS " + type + ")");
                }
            }
        }
        return new ClockMove(old, neu, candidates);
    }

    /** A move with symbolic instants, for explain. */
    static ClockMove symbolic(ClockFilter filter) {
        String old = "CAST(:previous_refresh_clock AS timestamptz)";
        String neu = "CAST(:this_refresh_clock AS timestamptz)";
        return new ClockMove(old, neu, filter.bounds().stream().map(b -> "(" + b.column() + ") BETWEEN least(" + ClockFilter.substitute(b.clock(), old) + ", "
                        + ClockFilter.substitute(b.clock(), neu) + ") AND greatest(" + ClockFilter.substitute(b.clock(), old)
                        + ", " + ClockFilter.substitute(b.clock(), neu) + ")").toList());
    }
}
