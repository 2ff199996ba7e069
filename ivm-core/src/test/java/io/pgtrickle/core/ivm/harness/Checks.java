package io.pgtrickle.core.ivm.harness;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** The SQL behind the harness's assertions, on a connection of the caller's. */
final class Checks {
    /** Rows of a difference shown in a failure message; the count says how many there were. */
    private static final int SHOWN = 20;

    private Checks() {
    }

    /** {@code SELECT} of a stream table's user columns, in storage order (hidden {@code __pgt_*} left out). */
    static String storageSelect(Connection c, String table) throws SQLException {
        List<String> columns = new ArrayList<>();
        for (List<Object> row : rows(c, "SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = ?::regclass"
                + " AND attnum > 0 AND NOT attisdropped AND attname NOT LIKE '\\_\\_pgt%' ORDER BY attnum", table)) {
            columns.add((String) row.get(0));
        }
        return "SELECT " + String.join(", ", columns) + " FROM " + table;
    }

    /** Hidden multiplicity columns ({@code __pgt_count…}) of numeric type in the storage table itself. */
    static List<String> hiddenCountColumns(Connection c, String table) throws SQLException {
        List<String> columns = new ArrayList<>();
        for (List<Object> row : rows(c, "SELECT quote_ident(a.attname) FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
                + " WHERE a.attrelid = ?::regclass AND a.attnum > 0 AND NOT a.attisdropped"
                + " AND a.attname LIKE '\\_\\_pgt\\_count%' AND t.typcategory = 'N' ORDER BY a.attnum", table)) {
            columns.add((String) row.get(0));
        }
        return columns;
    }

    /**
     * The multiset invariant: rows of the query missing from the stream table and rows of the
     * stream table the query does not produce (both directions of EXCEPT ALL, duplicates
     * counted). Empty when they are equal.
     */
    static Difference difference(Connection c, String storageSelect, String query) throws SQLException {
        String both = "(SELECT 'missing' AS side, * FROM ((" + query + ") EXCEPT ALL (" + storageSelect + ")) m)"
                + " UNION ALL (SELECT 'extra', * FROM ((" + storageSelect + ") EXCEPT ALL (" + query + ")) x)";
        List<List<Object>> counted = rows(c, "SELECT count(*) FROM (" + both + ") d");
        long total = ((Number) counted.get(0).get(0)).longValue();
        return new Difference(total, total == 0 ? List.of() : rows(c, "SELECT * FROM (" + both + ") d LIMIT " + SHOWN));
    }

    /** Descriptions of hidden count columns holding negative values, e.g. {@code __pgt_count: 2 rows < 0}. */
    static List<String> negativeCounts(Connection c, String table, List<String> countColumns) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (String column : countColumns) {
            long n = ((Number) rows(c, "SELECT count(*) FROM " + table + " WHERE " + column + " < 0").get(0).get(0)).longValue();
            if (n > 0) {
                problems.add(column + ": " + n + " rows < 0");
            }
        }
        return problems;
    }

    /**
     * Descriptions of per-group states of algebraic aggregates ({@code pgtrickle_state.agg_<relid>_…},
     * one row per group with its row count {@code __pgt_count}) holding a negative row count.
     */
    static List<String> negativeStateCounts(Connection c, String table) throws SQLException {
        List<String> problems = new ArrayList<>();
        for (List<Object> state : rows(c, "SELECT format('%I.%I', n.nspname, s.relname) FROM pg_class s"
                + " JOIN pg_namespace n ON n.oid = s.relnamespace WHERE n.nspname = 'pgtrickle_state' AND s.relkind = 'r'"
                + " AND s.relname LIKE 'agg\\_' || ?::regclass::oid || '\\_%'", table)) {
            long n = ((Number) rows(c, "SELECT count(*) FROM " + state.get(0) + " WHERE __pgt_count < 0").get(0).get(0))
                    .longValue();
            if (n > 0) {
                problems.add(state.get(0) + ".__pgt_count: " + n + " groups < 0");
            }
        }
        return problems;
    }

    static List<List<Object>> rows(Connection c, String sql, Object... parameters) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                ps.setObject(i + 1, parameters[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                int n = rs.getMetaData().getColumnCount();
                List<List<Object>> rows = new ArrayList<>();
                while (rs.next()) {
                    Object[] row = new Object[n];
                    for (int i = 0; i < n; i++) {
                        row[i] = rs.getObject(i + 1);
                    }
                    rows.add(Arrays.asList(row));
                }
                return rows;
            }
        }
    }

    /** How a stream table differs from its query: the number of differing rows, and the first few. */
    record Difference(long rows, List<List<Object>> sample) {
        boolean isEmpty() {
            return rows == 0;
        }

        @Override
        public String toString() {
            StringBuilder out = new StringBuilder(rows + " differing rows (side, columns…)");
            sample.forEach(r -> out.append("\n    ").append(r));
            if (rows > sample.size()) {
                out.append("\n    …");
            }
            return out.toString();
        }
    }
}
