package io.pgtrickle.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * The invariant of a stream table (or a materialized view): it holds exactly the multiset of rows
 * its query returns now. One statement counts the rows by which the two sides differ, in both
 * directions of EXCEPT ALL, so both sides are read at one snapshot. Never timed.
 */
public final class MultisetCheck {
    private MultisetCheck() {
    }

    /**
     * How many rows {@code relation} and a fresh run of {@code query} differ by (missing plus
     * extra); 0 when the invariant holds. Only the relation's own columns are compared, not the
     * engine's hidden {@code __pgt_} ones.
     *
     * @param relation a quoted, schema-qualified table or materialized view
     */
    public static long differences(Connection c, String relation, String query) throws SQLException {
        String columns = visibleColumns(c, relation);
        String fresh = "SELECT " + columns + " FROM (\n" + query + "\n) AS fresh";
        String stored = "SELECT " + columns + " FROM " + relation;
        String sql = "SELECT (SELECT count(*) FROM ((" + fresh + ") EXCEPT ALL (" + stored + ")) missing)"
                + " + (SELECT count(*) FROM ((" + stored + ") EXCEPT ALL (" + fresh + ")) extra)";
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String visibleColumns(Connection c, String relation) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)"
                + " FROM pg_attribute WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped"
                + " AND attname NOT LIKE '\\_\\_pgt\\_%'")) {
            ps.setString(1, relation);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                String columns = rs.getString(1);
                if (columns == null) {
                    throw new SQLException(relation + " does not exist or has no columns");
                }
                return columns;
            }
        }
    }
}
