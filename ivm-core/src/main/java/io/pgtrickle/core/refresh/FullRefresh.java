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
 * <p>Row ids of a fully refreshed table are content hashes (md5, 128 bits, numbered within equal
 * rows), so rows whose values did not change keep their id and are not rewritten: readers never
 * see the table empty, and only real changes reach the WAL and the stream tables downstream.
 */
public final class FullRefresh {
    private FullRefresh() {
    }

    /** Counts of rows the MERGE inserted and deleted. */
    public record Counts(long inserted, long deleted) {
    }

    /** The MERGE statement that brings {@code table} to the result of {@code query}. */
    public static String mergeSql(QualifiedName table, List<Column> columns, String query) {
        String cols = columns.stream().map(col -> Identifiers.quote(col.name())).collect(Collectors.joining(", "));
        String sourceCols = columns.stream().map(col -> "__pgt_s." + Identifiers.quote(col.name()))
                .collect(Collectors.joining(", "));
        return "MERGE INTO " + table.quoted() + " AS __pgt_t\n"
                + "USING (SELECT md5(__pgt_h || ':' || row_number() OVER (PARTITION BY __pgt_h))::uuid AS __pgt_row_id"
                + (cols.isEmpty() ? "" : ", " + cols) + "\n"
                + "         FROM (SELECT md5(__pgt_q::text) AS __pgt_h, __pgt_q.* FROM (\n" + query + "\n"
                + ") AS __pgt_q) AS __pgt_hashed) AS __pgt_s\n"
                + "ON __pgt_t.__pgt_row_id = __pgt_s.__pgt_row_id\n"
                + "WHEN NOT MATCHED BY SOURCE THEN DELETE\n"
                + "WHEN NOT MATCHED BY TARGET THEN INSERT (" + (cols.isEmpty() ? "" : cols + ", ") + "__pgt_row_id)"
                + " VALUES (" + (sourceCols.isEmpty() ? "" : sourceCols + ", ") + "__pgt_s.__pgt_row_id)\n"
                + "RETURNING merge_action()";
    }

    /** Runs the MERGE in the caller's transaction. */
    public static Counts apply(Connection c, QualifiedName table, List<Column> columns, String query)
            throws SQLException {
        long inserted = 0;
        long deleted = 0;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(mergeSql(table, columns, query))) {
            while (rs.next()) {
                if ("INSERT".equals(rs.getString(1))) {
                    inserted++;
                } else {
                    deleted++;
                }
            }
        }
        return new Counts(inserted, deleted);
    }
}
