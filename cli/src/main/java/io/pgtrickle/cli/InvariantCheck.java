package io.pgtrickle.cli;

import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * The invariant every stream table keeps: it holds exactly the rows (as a multiset) that its
 * defining query returns now. Checked in one statement, so both sides see one snapshot.
 */
final class InvariantCheck {
    private InvariantCheck() {
    }

    /**
     * Up to {@code limit} rows by which {@code table} and a fresh run of {@code query} differ, as
     * text ({@code missing (...)} or {@code extra (...)}); empty when they are equal.
     */
    static List<String> differences(Connection c, QualifiedName table, String query, int limit)
            throws SQLException {
        String columns = userColumns(c, table);
        String fresh = "SELECT " + columns + " FROM (\n" + query + "\n) AS __pgt_fresh";
        String stored = "SELECT " + columns + " FROM " + table.quoted();
        String sql = "(SELECT 'missing' AS __pgt_side, d.* FROM ((" + fresh + ") EXCEPT ALL (" + stored + ")) d)\n"
                + "UNION ALL\n"
                + "(SELECT 'extra', d.* FROM ((" + stored + ") EXCEPT ALL (" + fresh + ")) d)\n"
                + "LIMIT " + limit;
        List<String> differences = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            int n = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                StringJoiner row = new StringJoiner(", ", rs.getString(1) + " (", ")");
                for (int i = 2; i <= n; i++) {
                    row.add(String.valueOf(rs.getString(i)));
                }
                differences.add(row.toString());
            }
        }
        return differences;
    }

    /** The stream table's own columns, without the engine's hidden {@code __pgt_} ones, ready for SQL. */
    private static String userColumns(Connection c, QualifiedName table) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum)
                  FROM pg_attribute
                 WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped
                   AND attname NOT LIKE '\\_\\_pgt\\_%'""")) {
            ps.setString(1, table.quoted());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                String columns = rs.getString(1);
                if (columns == null) {
                    throw new SQLException("table " + table + " does not exist or has no columns");
                }
                return columns;
            }
        }
    }
}
