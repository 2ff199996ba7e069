package io.pgtrickle.core.sql;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * A MERGE of rows into a stream table's storage on {@code __pgt_row_id}, in the form the server
 * has. On PostgreSQL 17+ it is one {@code MERGE … RETURNING merge_action()} counted inside
 * PostgreSQL (the fast path). Before 17 there is neither {@code WHEN NOT MATCHED BY SOURCE} nor
 * {@code RETURNING} on MERGE, so the source is materialised once, with whether each of its rows
 * matched a target row before any change, and applied as DELETE, UPDATE and INSERT statements
 * whose command tags give the counts; the result is the same as the MERGE's.
 *
 * <p>In every SQL fragment the target is {@code __pgt_t} and the source {@code __pgt_s}.
 *
 * @param target the quoted storage table
 * @param source a query for the source rows
 * @param rowId the source column holding the row id to match {@code __pgt_row_id} against
 * @param deleteUnmatchedTargets whether target rows no source row matches are deleted
 * @param deleteWhen the condition under which a matched row is deleted, or {@code null} for never
 * @param updateWhen the condition under which a matched row (not deleted) is updated, or {@code null} for never
 * @param updateSet the SET list of that update ({@code col = __pgt_s.col, …})
 * @param insertWhen the condition under which an unmatched source row is inserted, or {@code null} for always
 * @param insertColumns the inserted target columns
 * @param insertValues their values over {@code __pgt_s}
 * @param userColumns the target's user columns (unquoted), the keys of the row images a {@link ChangeSink} gets
 */
public record StorageMerge(String target, String source, String rowId, boolean deleteUnmatchedTargets,
                           String deleteWhen, String updateWhen, String updateSet, String insertWhen,
                           String insertColumns, String insertValues, List<String> userColumns) {
    private static final String SOURCE_TABLE = "pg_temp.__pgt_merge_source";

    public StorageMerge {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(rowId, "rowId");
        Objects.requireNonNull(insertColumns, "insertColumns");
        Objects.requireNonNull(insertValues, "insertValues");
        userColumns = List.copyOf(userColumns);
        if (updateWhen != null && (updateSet == null || updateSet.isEmpty())) {
            throw new IllegalArgumentException("an update needs a SET list");
        }
    }

    /** Rows inserted, updated and deleted. */
    public record Counts(long inserted, long updated, long deleted) {
    }

    /** Runs the merge in the caller's transaction. */
    public Counts apply(Connection c, ServerCapabilities server) throws SQLException {
        return apply(c, server, null);
    }

    /**
     * Runs the merge in the caller's transaction; with a {@code sink}, every row it changes also
     * goes there ({@code op, row_id, before, after}, images of the user columns), from the same
     * statements: no second scan of the target.
     */
    public Counts apply(Connection c, ServerCapabilities server, ChangeSink sink) throws SQLException {
        if (sink != null && server.returningOldNew()) {
            return applyMerge(c, sink);
        }
        if (sink == null) {
            return server.mergeReturning() ? applyMerge(c, null) : applyStatements(c, false);
        }
        Jdbc.executeRaw(c, "CREATE TEMP TABLE IF NOT EXISTS " + DELTA_TABLE.substring("pg_temp.".length())
                + " (op text NOT NULL, row_id uuid NOT NULL, before jsonb, after jsonb) ON COMMIT DROP");
        Counts counts = applyStatements(c, true);
        sink.writeCollected(c);
        return counts;
    }

    /** Where {@link #apply(Connection, ServerCapabilities, ChangeSink)} collects the rows it changed before 18. */
    public static final String DELTA_TABLE = "pg_temp.__pgt_outbox_delta";

    /**
     * A row's image: its user columns as a jsonb object, or NULL for no row. Spelt out per column,
     * it costs about half of {@code to_jsonb(row)} less the hidden columns; jsonb_build_object
     * takes at most 100 arguments, so 50 columns per call.
     */
    private String image(String row) {
        List<String> calls = new ArrayList<>();
        for (int from = 0; from < userColumns.size(); from += 50) {
            calls.add(userColumns.subList(from, Math.min(from + 50, userColumns.size())).stream()
                    .map(col -> Identifiers.literal(col) + ", " + row + "." + Identifiers.quote(col))
                    .collect(java.util.stream.Collectors.joining(", ", "jsonb_build_object(", ")")));
        }
        // In MERGE's RETURNING the row that is not there (old of an insert, new of a delete) is NULL.
        return "CASE WHEN " + row + ".__pgt_row_id IS NOT NULL THEN "
                + (calls.isEmpty() ? "'{}'::jsonb" : String.join(" || ", calls)) + " END";
    }

    /** The SQL {@link #apply} runs on {@code server}, for explain. */
    public String sql(ServerCapabilities server) {
        return server.mergeReturning() ? merge() : String.join(";\n", statements()) + ";";
    }

    /** The 17+ form: one MERGE … RETURNING merge_action(). */
    String merge() {
        return merge(false);
    }

    /** With {@code images}, RETURNING also gives the row id and the images before and after (18+). */
    String merge(boolean images) {
        StringBuilder sql = new StringBuilder("MERGE INTO ").append(target).append(" AS __pgt_t\nUSING (")
                .append(source).append(") AS __pgt_s\nON __pgt_t.__pgt_row_id = __pgt_s.").append(rowId).append('\n');
        if (deleteUnmatchedTargets) {
            sql.append("WHEN NOT MATCHED BY SOURCE THEN DELETE\n");
        }
        if (deleteWhen != null) {
            sql.append("WHEN MATCHED AND ").append(deleteWhen).append(" THEN DELETE\n");
        }
        if (updateWhen != null) {
            sql.append("WHEN MATCHED AND ").append(updateWhen).append(" THEN UPDATE SET ").append(updateSet).append('\n');
        }
        sql.append("WHEN NOT MATCHED BY TARGET").append(insertWhen == null ? "" : " AND " + insertWhen)
                .append(" THEN INSERT (").append(insertColumns).append(") VALUES (").append(insertValues).append(")\n");
        sql.append("RETURNING merge_action()");
        if (images) {
            sql.append(" AS __pgt_action, coalesce(old.__pgt_row_id, new.__pgt_row_id) AS __pgt_rid, ")
                    .append(image("old")).append(" AS __pgt_before, ").append(image("new")).append(" AS __pgt_after");
        }
        return sql.toString();
    }

    private Counts applyMerge(Connection c, ChangeSink sink) throws SQLException {
        long inserted = 0;
        long updated = 0;
        long deleted = 0;
        // Counted inside PostgreSQL: a large refresh sends three numbers, not a row per change.
        String sql = sink != null
                ? "WITH __pgt_m AS (" + merge(true) + "),\n" + sink.writeSql("__pgt_m")
                        + "\nSELECT __pgt_action, count(*) FROM __pgt_m GROUP BY 1"
                : "WITH __pgt_m AS (" + merge() + " AS __pgt_action) SELECT __pgt_action, count(*) FROM __pgt_m GROUP BY 1";
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
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

    /**
     * The form before 17. "Matched" is decided before any change, as MERGE decides it, so a row
     * deleted here is never inserted again by the INSERT that follows; rows the DELETEs removed
     * are gone before the UPDATE, as MERGE's first satisfied WHEN clause wins.
     */
    List<String> statements() {
        return statements(false);
    }

    /**
     * With {@code images}, each statement also appends the rows it changes to {@link #DELTA_TABLE};
     * an UPDATE reads a row's image before the change by joining the target to itself on ctid.
     */
    List<String> statements(boolean images) {
        String on = "__pgt_t.__pgt_row_id = __pgt_s." + rowId;
        List<String> sql = new ArrayList<>();
        sql.add("CREATE TEMP TABLE " + SOURCE_TABLE.substring("pg_temp.".length()) + " ON COMMIT DROP AS SELECT __pgt_s.*,"
                + " EXISTS (SELECT 1 FROM " + target + " __pgt_t WHERE " + on + ") AS __pgt_matched FROM (" + source
                + ") AS __pgt_s");
        sql.add("ANALYZE " + SOURCE_TABLE);
        String deleted = images ? " RETURNING 'delete', __pgt_t.__pgt_row_id, " + image("__pgt_t") + ", NULL::jsonb" : "";
        if (deleteUnmatchedTargets) {
            sql.add(captured("DELETE FROM " + target + " AS __pgt_t WHERE NOT EXISTS (SELECT 1 FROM " + SOURCE_TABLE
                    + " __pgt_s WHERE " + on + ")" + deleted, images));
        }
        if (deleteWhen != null) {
            sql.add(captured("DELETE FROM " + target + " AS __pgt_t USING " + SOURCE_TABLE + " AS __pgt_s WHERE " + on
                    + " AND (" + deleteWhen + ")" + deleted, images));
        }
        if (updateWhen != null) {
            sql.add(captured("UPDATE " + target + " AS __pgt_t SET " + updateSet + " FROM " + SOURCE_TABLE + " AS __pgt_s"
                    + (images ? ", " + target + " AS __pgt_o" : "") + " WHERE " + on + " AND (" + updateWhen + ")"
                    + (images ? " AND __pgt_o.ctid = __pgt_t.ctid RETURNING 'update', __pgt_t.__pgt_row_id, "
                            + image("__pgt_o") + ", " + image("__pgt_t") : ""), images));
        }
        sql.add(captured("INSERT INTO " + target + " AS __pgt_t (" + insertColumns + ") SELECT " + insertValues + " FROM "
                + SOURCE_TABLE + " AS __pgt_s WHERE NOT __pgt_s.__pgt_matched" + (insertWhen == null ? "" : " AND ("
                + insertWhen + ")") + (images ? " RETURNING 'insert', __pgt_t.__pgt_row_id, NULL::jsonb, "
                + image("__pgt_t") : ""), images));
        sql.add("DROP TABLE " + SOURCE_TABLE);
        return sql;
    }

    /** A data-modifying statement whose RETURNING rows go to the delta table (its command tag counts them). */
    private static String captured(String statement, boolean images) {
        return images ? "WITH __pgt_r AS (" + statement + ") INSERT INTO " + DELTA_TABLE + " SELECT * FROM __pgt_r"
                : statement;
    }

    private Counts applyStatements(Connection c, boolean captureDelta) throws SQLException {
        List<String> sql = statements(captureDelta);
        long inserted = 0;
        long updated = 0;
        long deleted = 0;
        try (Statement s = c.createStatement()) {
            for (String statement : sql) {
                long n = s.executeLargeUpdate(statement);
                String verb = statement.startsWith("WITH __pgt_r AS (") ? statement.substring("WITH __pgt_r AS (".length())
                        : statement;
                if (verb.startsWith("DELETE")) {
                    deleted += n;
                } else if (verb.startsWith("UPDATE")) {
                    updated = n;
                } else if (verb.startsWith("INSERT")) {
                    inserted = n;
                }
            }
        }
        return new Counts(inserted, updated, deleted);
    }
}
