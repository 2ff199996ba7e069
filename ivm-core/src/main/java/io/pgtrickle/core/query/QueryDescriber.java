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
 * its rule's dependencies name every relation, however deeply nested in subqueries or CTEs; the
 * rules of the views it reads name what lies under them, and the functions every rule calls.
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
            List<SourceFunction> functions = functions(c);
            if (requester != null) {
                checkPrivileges(c, requester);
            }
            Jdbc.executeRaw(c, "DROP VIEW " + PROBE);
            if (sp != null) {
                c.releaseSavepoint(sp);
            }
            return new QueryDescription(query, columns, sources, functions);
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

    /**
     * The relations the query reads, directly or through views (nested views included), each once:
     * a view and the relations under it. A view is kept so that a change to it can be found; the
     * tables under it are what capture tracks once the view is inlined.
     */
    private static List<SourceRelation> sources(Connection c, Set<Long> streamTableRelids) throws SQLException {
        String sql = READS + """
                SELECT DISTINCT r.relid::bigint, n.nspname, cl.relname, cl.relkind, cl.relpersistence
                  FROM reads r
                  JOIN pg_class cl ON cl.oid = r.relid
                  JOIN pg_namespace n ON n.oid = cl.relnamespace
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

    /**
     * Every relation the probe reads, directly or through views (system views are not expanded:
     * they are read whole, never inlined), with the role PostgreSQL checks
     * its privileges against: null (the requester) for what the query names itself, the view's
     * owner for what a view reads, the view's own checker for a {@code security_invoker} view.
     */
    private static final String READS = """
            WITH RECURSIVE reads(relid, checker) AS (
                SELECT d.refobjid, NULL::name
                  FROM pg_rewrite r
                  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                  AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class
                 WHERE r.ev_class = 'pg_temp.__pgt_probe'::regclass
                UNION
                SELECT d.refobjid,
                       CASE WHEN coalesce((SELECT option_value::boolean FROM pg_options_to_table(v.reloptions)
                                            WHERE option_name = 'security_invoker'), false)
                            THEN reads.checker ELSE pg_get_userbyid(v.relowner) END
                  FROM reads
                  JOIN pg_class v ON v.oid = reads.relid AND v.relkind = 'v'
                                 AND v.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
                  JOIN pg_rewrite r ON r.ev_class = v.oid
                  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                  AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> r.ev_class)
            """;

    /**
     * The user-defined functions the query calls, directly, through an operator, inside a view it
     * reads, or inside a SQL-standard function body: a redefinition changes the results, so the
     * readers must be refilled. Calls made by other function bodies (plpgsql, quoted SQL) are not
     * recorded by PostgreSQL and are not found.
     */
    private static List<SourceFunction> functions(Connection c) throws SQLException {
        String sql = READS + """
                , rules AS (
                    SELECT r.oid FROM pg_rewrite r WHERE r.ev_class = 'pg_temp.__pgt_probe'::regclass
                    UNION SELECT r.oid FROM reads JOIN pg_class v ON v.oid = reads.relid AND v.relkind = 'v'
                       AND v.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
                      JOIN pg_rewrite r ON r.ev_class = v.oid),
                called AS (
                    SELECT d.refobjid AS fn FROM rules JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass
                       AND d.objid = rules.oid AND d.refclassid = 'pg_proc'::regclass
                    UNION SELECT o.oprcode FROM rules JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass
                       AND d.objid = rules.oid AND d.refclassid = 'pg_operator'::regclass
                      JOIN pg_operator o ON o.oid = d.refobjid
                    -- SQL-standard bodies (BEGIN ATOMIC) record the functions they call
                    UNION SELECT d.refobjid FROM called JOIN pg_depend d ON d.classid = 'pg_proc'::regclass
                       AND d.objid = called.fn AND d.refclassid = 'pg_proc'::regclass)
                SELECT DISTINCT p.oid::bigint, p.oid::regprocedure::text
                  FROM called JOIN pg_proc p ON p.oid = called.fn
                  JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
                 ORDER BY 2""";
        List<SourceFunction> functions = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                functions.add(new SourceFunction(rs.getLong(1), rs.getString(2)));
            }
        }
        return functions;
    }

    /**
     * The privileges PostgreSQL would check if {@code requester} ran the query: SELECT on what the
     * query names, and on what each view reads for whoever that view checks (its owner, or its
     * caller when it is {@code security_invoker}). Inlining a view therefore never lets the
     * requester read more than the view shows.
     */
    private static void checkPrivileges(Connection c, String requester) throws SQLException {
        String sql = READS + """
                SELECT DISTINCT coalesce(checker, ?::name), quote_ident(n.nspname) || '.' || quote_ident(cl.relname)
                  FROM reads JOIN pg_class cl ON cl.oid = reads.relid
                  JOIN pg_namespace n ON n.oid = cl.relnamespace
                 WHERE cl.relkind IN ('r', 'p', 'v', 'm', 'f')
                   AND NOT has_table_privilege(coalesce(checker, ?::name), reads.relid, 'SELECT')
                 ORDER BY 2 LIMIT 1""";
        try (PreparedStatement ps = Jdbc.prepare(c, sql, requester, requester); ResultSet rs = ps.executeQuery()) {
            if (rs.next()) {
                String role = rs.getString(1);
                throw new PgTrickleException(ErrorCode.INVALID_QUERY, "role " + role + " may not read " + rs.getString(2)
                        + " (permission denied" + (role.equals(requester) ? "" : ", through a view owned by " + role) + ")");
            }
        }
    }
}
