package io.pgtrickle.core.query;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.error.SqlErrors;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Asks PostgreSQL, the authority on its own SQL, to validate a defining query, type its columns
 * and list the relations it reads. It does so through a temporary view inside the caller's
 * transaction: the view's attributes carry the exact types (typmods and collations included) and
 * its rule's dependencies name every relation, however deeply nested in subqueries or CTEs.
 */
public final class QueryDescriber {
    private static final String PROBE = "pg_temp.__pgt_probe";
    private static final String DUPLICATE_COLUMN = "42701";

    /**
     * @param query a query that passed {@link SqlText#requireSingleStatement}
     * @param streamTableRelids relids of existing stream tables, to classify sources
     * @param requester a role that must be able to read every source, or {@code null} for the
     *     engine's own role
     */
    public QueryDescription describe(Connection c, String query, Set<Long> streamTableRelids, String requester) {
        Savepoint sp = null;
        try {
            sp = c.getAutoCommit() ? null : c.setSavepoint();
            // Bound, so the text is never split by the driver; the server rejects a second statement.
            Jdbc.call(c, "SELECT pgtrickle._check_query(?)", query);
            Jdbc.executeRaw(c, "DROP VIEW IF EXISTS " + PROBE);
            Jdbc.executeRaw(c, "CREATE TEMP VIEW __pgt_probe AS SELECT * FROM (\n" + query + "\n) AS __pgt_q");
            List<Column> columns = columns(c);
            List<SourceRelation> sources = sources(c, streamTableRelids);
            Jdbc.executeRaw(c, "DROP VIEW " + PROBE);
            if (requester != null) {
                checkPrivileges(c, requester, sources);
            }
            if (sp != null) {
                c.releaseSavepoint(sp);
            }
            return new QueryDescription(query, columns, sources);
        } catch (SQLException e) {
            rollbackTo(c, sp, e);
            if (DUPLICATE_COLUMN.equals(e.getSQLState())) {
                String duplicates = duplicateOutputs(c, query);
                if (duplicates != null) {
                    throw new PgTrickleException(ErrorCode.INVALID_QUERY, duplicates, e);
                }
            }
            throw new PgTrickleException(ErrorCode.INVALID_QUERY, "invalid defining query: " + SqlErrors.describe(e), e);
        } catch (RuntimeException e) {
            rollbackTo(c, sp, e);
            throw e;
        }
    }

    private static void rollbackTo(Connection c, Savepoint sp, Exception e) {
        if (sp != null) {
            try {
                c.rollback(sp);
            } catch (SQLException r) {
                e.addSuppressed(r);
            }
        }
    }

    /**
     * "output columns 1 and 3 are both named …" for the first name PostgreSQL gives two outputs
     * (a table cannot have both, so CREATE TABLE AS would fail too), or null when none repeats
     * (the duplicate was elsewhere) or the query cannot be described.
     */
    private static String duplicateOutputs(Connection c, String query) {
        // A plain statement: an operator such as jsonb's ? must not be read as a parameter.
        try (var s = c.createStatement(); var rs = s.executeQuery("SELECT * FROM (\n" + query + "\n) AS __pgt_q LIMIT 0")) {
            var md = rs.getMetaData();
            java.util.Map<String, Integer> first = new java.util.HashMap<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                Integer earlier = first.putIfAbsent(md.getColumnLabel(i), i);
                if (earlier != null) {
                    return "output columns " + earlier + " and " + i + " are both named \"" + md.getColumnLabel(i)
                            + "\" (a stream table, like CREATE TABLE AS, needs distinct column names): give them"
                            + " distinct aliases (… AS name)";
                }
            }
            return null;
        } catch (SQLException e) {
            return null;
        }
    }

    private static List<Column> columns(Connection c) throws SQLException {
        long probe = Jdbc.queryValue(c, Long.class, "SELECT '" + PROBE + "'::regclass::oid::bigint");
        List<Column> columns = RelationColumns.of(c, probe);
        for (int i = 0; i < columns.size(); i++) {
            Column col = columns.get(i);
            if (col.name().startsWith("__pgt_")) {
                throw new PgTrickleException(ErrorCode.INVALID_QUERY, "output column \"" + col.name()
                        + "\" uses the reserved prefix __pgt_: rename it");
            }
            if (col.type().equals("unknown")) {
                throw new PgTrickleException(ErrorCode.INVALID_QUERY, "output column \"" + col.name()
                        + "\" has no type: cast the literal, e.g. 'x'::text");
            }
        }
        return columns;
    }

    private static List<SourceRelation> sources(Connection c, Set<Long> streamTableRelids) throws SQLException {
        String sql = """
                SELECT DISTINCT d.refobjid::bigint, n.nspname, cl.relname, cl.relkind, cl.relpersistence
                  FROM pg_depend d
                  JOIN pg_rewrite r ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                  JOIN pg_class cl ON d.refclassid = 'pg_class'::regclass AND cl.oid = d.refobjid
                  JOIN pg_namespace n ON n.oid = cl.relnamespace
                 WHERE r.ev_class = 'pg_temp.__pgt_probe'::regclass AND d.refobjid <> r.ev_class
                 ORDER BY 2, 3""";
        List<SourceRelation> sources = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                long relid = rs.getLong(1);
                QualifiedName name = new QualifiedName(rs.getString(2), rs.getString(3));
                if ("t".equals(rs.getString(5))) {
                    throw new PgTrickleException(ErrorCode.INVALID_QUERY, "the defining query reads temporary table "
                            + name.name() + ": stream tables can only read permanent relations");
                }
                SourceRelation.Kind kind = switch (rs.getString(4)) {
                    case "r", "p" -> streamTableRelids.contains(relid)
                            ? SourceRelation.Kind.STREAM_TABLE : SourceRelation.Kind.TABLE;
                    case "v" -> SourceRelation.Kind.VIEW;
                    case "m" -> SourceRelation.Kind.MATERIALIZED_VIEW;
                    case "f" -> SourceRelation.Kind.FOREIGN_TABLE;
                    default -> null;
                };
                if (kind != null) {
                    sources.add(new SourceRelation(relid, name, kind));
                }
            }
        }
        return sources;
    }

    private static void checkPrivileges(Connection c, String role, List<SourceRelation> sources) throws SQLException {
        for (SourceRelation s : sources) {
            Boolean allowed = Jdbc.queryValue(c, Boolean.class, "SELECT has_table_privilege(?, ?::oid, 'SELECT')",
                    role, s.relid());
            if (!Boolean.TRUE.equals(allowed)) {
                throw new PgTrickleException(ErrorCode.INVALID_QUERY,
                        "role " + role + " may not read " + s.name() + " (permission denied)");
            }
        }
    }
}
