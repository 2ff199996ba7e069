package io.pgtrickle.core.refresh;

import io.pgtrickle.core.query.Column;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Recomputes a stream table from its defining query and applies the difference with one MERGE.
 *
 * <p>Row identity: every row has a hash {@code __pgt_h} — of its content, or of its group key
 * when the compiler knows the query's groups — and rows sharing a hash are numbered, the id being
 * {@code md5(h || ':' || n)} (128 bits). Differential refreshes keep the same scheme, so both
 * kinds of refresh can follow each other. Rows whose values did not change keep their id and are
 * not rewritten: readers never see the table empty, and only real changes reach the WAL and the
 * stream tables downstream.
 */
public final class FullRefresh {
    private FullRefresh() {
    }

    /** Counts of rows the MERGE inserted, updated and deleted. */
    public record Counts(long inserted, long updated, long deleted) {
    }

    /**
     * The MERGE that brings {@code table} to the result of {@code query}.
     *
     * @param hashedQuery a query returning the user columns and {@code __pgt_h}, or {@code null} to
     *     hash the content of {@code query}'s rows
     */
    public static String mergeSql(QualifiedName table, List<Column> columns, String query, String hashedQuery) {
        String cols = columns.stream().map(col -> Identifiers.quote(col.name())).collect(Collectors.joining(", "));
        String sourceCols = columns.stream().map(col -> "__pgt_s." + Identifiers.quote(col.name()))
                .collect(Collectors.joining(", "));
        String targetCols = columns.stream().map(col -> "__pgt_t." + Identifiers.quote(col.name()))
                .collect(Collectors.joining(", "));
        String hashed = hashedQuery != null ? hashedQuery
                : "SELECT __pgt_q.*, md5(__pgt_q::text)::uuid AS __pgt_h FROM (\n" + query + "\n) AS __pgt_q";
        String set = columns.stream().map(col -> Identifiers.quote(col.name()) + " = __pgt_s." + Identifiers.quote(col.name()))
                .collect(Collectors.joining(", "));
        return "MERGE INTO " + table.quoted() + " AS __pgt_t\n"
                + "USING (SELECT md5(__pgt_h::text || ':' || row_number() OVER (PARTITION BY __pgt_h))::uuid AS __pgt_row_id,"
                + " __pgt_h" + (cols.isEmpty() ? "" : ", " + cols) + "\n"
                + "         FROM (" + hashed + ") AS __pgt_hashed) AS __pgt_s\n"
                + "ON __pgt_t.__pgt_row_id = __pgt_s.__pgt_row_id\n"
                + "WHEN NOT MATCHED BY SOURCE THEN DELETE\n"
                + (cols.isEmpty() ? "" : "WHEN MATCHED AND row(" + targetCols + ")::text IS DISTINCT FROM row(" + sourceCols
                + ")::text THEN UPDATE SET " + set + "\n")
                + "WHEN NOT MATCHED BY TARGET THEN INSERT (" + (cols.isEmpty() ? "" : cols + ", ") + "__pgt_row_id, __pgt_h)"
                + " VALUES (" + (sourceCols.isEmpty() ? "" : sourceCols + ", ") + "__pgt_s.__pgt_row_id, __pgt_s.__pgt_h)\n"
                + "RETURNING merge_action()";
    }

    /** Runs the MERGE in the caller's transaction. */
    public static Counts apply(Connection c, QualifiedName table, List<Column> columns, String query, String hashedQuery)
            throws SQLException {
        long inserted = 0;
        long updated = 0;
        long deleted = 0;
        // Counted inside PostgreSQL: a large refresh sends three numbers, not a row per change.
        try (Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("WITH __pgt_m AS (" + mergeSql(table, columns, query, hashedQuery)
                     + " AS __pgt_action) SELECT __pgt_action, count(*) FROM __pgt_m GROUP BY 1")) {
            while (rs.next()) {
                switch (rs.getString(1)) {
                    case "INSERT" -> inserted = rs.getLong(2);
                    case "UPDATE" -> updated = rs.getLong(2);
                    default -> deleted = rs.getLong(2);
                }
            }
        }
        return new Counts(inserted, updated, deleted);
    }
}
