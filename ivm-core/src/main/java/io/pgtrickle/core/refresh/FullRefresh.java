package io.pgtrickle.core.refresh;

import io.pgtrickle.core.query.Column;
import io.pgtrickle.core.sql.ChangeSink;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.core.sql.ServerCapabilities;
import io.pgtrickle.core.sql.StorageMerge;
import java.sql.Connection;
import java.sql.SQLException;
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

    /**
     * The merge that brings {@code table} to the result of {@code query}.
     *
     * @param hashedQuery a query returning the user columns and {@code __pgt_h}, or {@code null} to
     *     hash the content of {@code query}'s rows
     */
    static StorageMerge merge(QualifiedName table, List<Column> columns, String hashed) {
        String cols = columns.stream().map(col -> Identifiers.quote(col.name())).collect(Collectors.joining(", "));
        String sourceCols = columns.stream().map(col -> "__pgt_s." + Identifiers.quote(col.name()))
                .collect(Collectors.joining(", "));
        String targetCols = columns.stream().map(col -> "__pgt_t." + Identifiers.quote(col.name()))
                .collect(Collectors.joining(", "));
        String set = columns.stream().map(col -> Identifiers.quote(col.name()) + " = __pgt_s." + Identifiers.quote(col.name()))
                .collect(Collectors.joining(", "));
        String source = "SELECT md5(__pgt_h::text || ':' || row_number() OVER (PARTITION BY __pgt_h))::uuid AS __pgt_row_id,"
                + " __pgt_h" + (cols.isEmpty() ? "" : ", " + cols) + "\n"
                + "         FROM (" + hashed + ") AS __pgt_hashed";
        return new StorageMerge(table.quoted(), source, "__pgt_row_id", true, null,
                cols.isEmpty() ? null : "row(" + targetCols + ")::text IS DISTINCT FROM row(" + sourceCols + ")::text", set,
                null, (cols.isEmpty() ? "" : cols + ", ") + "__pgt_row_id, __pgt_h",
                (sourceCols.isEmpty() ? "" : sourceCols + ", ") + "__pgt_s.__pgt_row_id, __pgt_s.__pgt_h",
                columns.stream().map(Column::name).toList());
    }

    /** The query's rows with {@code __pgt_h}. */
    private static String hashed(String query, String hashedQuery) {
        return hashedQuery != null ? hashedQuery
                : "SELECT __pgt_q.*, md5(__pgt_q::text)::uuid AS __pgt_h FROM (\n" + query + "\n) AS __pgt_q";
    }

    /**
     * The result goes into a temporary table first: PostgreSQL runs a MERGE's source without
     * parallel workers, a CREATE TABLE AS with them, so a large query computes as fast as in
     * {@code REFRESH MATERIALIZED VIEW}.
     */
    private static String materialize(String query, String hashedQuery) {
        return "CREATE TEMP TABLE " + RESULT + " ON COMMIT DROP AS " + hashed(query, hashedQuery);
    }

    private static final String RESULT = "__pgt_full_result";

    /** The SQL a FULL refresh of {@code table} runs on {@code server}, for explain. */
    public static String mergeSql(QualifiedName table, List<Column> columns, String query, String hashedQuery,
                                  ServerCapabilities server) {
        return materialize(query, hashedQuery) + ";\n"
                + merge(table, columns, "SELECT * FROM pg_temp." + RESULT).sql(server) + ";\nDROP TABLE pg_temp." + RESULT;
    }

    /**
     * Runs the refresh in the caller's transaction.
     *
     * @param sink where the rows it changes also go (the outbox), or {@code null}
     */
    public static StorageMerge.Counts apply(Connection c, QualifiedName table, List<Column> columns, String query, String hashedQuery,
                               ServerCapabilities server, ChangeSink sink) throws SQLException {
        Jdbc.executeRaw(c, materialize(query, hashedQuery));
        StorageMerge.Counts counts = merge(table, columns, "SELECT * FROM pg_temp." + RESULT)
                .apply(c, server, sink);
        Jdbc.executeRaw(c, "DROP TABLE pg_temp." + RESULT);
        return counts;
    }
}
