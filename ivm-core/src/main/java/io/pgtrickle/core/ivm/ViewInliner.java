package io.pgtrickle.core.ivm;

import io.pgtrickle.core.query.QueryParser;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.parser.SqlParseException;

/**
 * Replaces every view a query reads (in FROM, at any depth, nested views included) by its
 * definition as PostgreSQL prints it ({@code pg_get_viewdef}), as a subquery under the reference's
 * alias, so the delta rules apply to the tables underneath.
 *
 * <p>The definition is printed in the compiling session, so its names resolve exactly as they do
 * for the rest of the query. Inlining reads the tables as the engine's role instead of the view's
 * owner; it is refused (the view is then read whole, FULL) where that could change what is seen:
 * a {@code security_barrier} view (the query's own conditions could run before the view's) and a
 * view over a table with row-level security (its policies would apply to another role). System
 * views (pg_catalog, information_schema) are left alone: the catalogs under them cannot be captured.
 */
final class ViewInliner {
    /** Views nest only as deep as someone wrote them; this bounds a pathological chain. */
    private static final int MAX_DEPTH = 64;

    /** The view each inlined body came from, to name it in a refusal; held weakly like the tree. */
    private static final Map<SqlNode, QualifiedName> ORIGIN = Collections.synchronizedMap(new WeakHashMap<>());

    private final QueryParser parser = new QueryParser();

    private ViewInliner() {
    }

    private record View(QualifiedName name, String definition, boolean securityBarrier, String rowSecurityTable) {
    }

    /** {@code node} with its views inlined (the tree is changed in place where it can be). */
    static SqlNode inline(Connection c, SqlNode node) throws NotDifferentiable, SQLException {
        return new ViewInliner().inlineAll(c, node, 0);
    }

    /**
     * A refusal raised while compiling {@code body}, naming the view it came from when it is an
     * inlined view's definition: {@code view public.v: ORDER BY … LIMIT … has no delta rule yet}.
     */
    static NotDifferentiable inView(SqlNode body, NotDifferentiable e) {
        QualifiedName view = ORIGIN.get(body);
        return view == null ? e : new NotDifferentiable(within(view, e.getMessage()));
    }

    /** The view {@code node} is the inlined definition of, or {@code null}. */
    static QualifiedName originOf(SqlNode node) {
        return ORIGIN.get(node);
    }

    /** {@code message} about a view's definition, naming the view: nested ones read "view a reads view b: …". */
    static String within(QualifiedName view, String message) {
        return "view " + view + (message.startsWith("view ") ? " reads " : ": ") + message;
    }

    private SqlNode inlineAll(Connection c, SqlNode node, int depth) throws NotDifferentiable, SQLException {
        NotDifferentiable[] refused = new NotDifferentiable[1];
        SQLException[] failed = new SQLException[1];
        SqlTrees.forEachFrom(node, from -> SqlTrees.replaceTables(from, id -> {
            if (refused[0] != null || failed[0] != null) {
                return null;
            }
            try {
                return body(c, id, depth);
            } catch (NotDifferentiable e) {
                refused[0] = e;
            } catch (SQLException e) {
                failed[0] = e;
            }
            return null;
        }));
        if (refused[0] != null) {
            throw refused[0];
        }
        if (failed[0] != null) {
            throw failed[0];
        }
        return node;
    }

    /** The inlined definition of the view {@code id} names, or null when it names no view. */
    private SqlNode body(Connection c, SqlIdentifier id, int depth) throws NotDifferentiable, SQLException {
        View view = resolve(c, id);
        if (view == null) {
            return null;
        }
        if (depth >= MAX_DEPTH) {
            throw new NotDifferentiable("views nested more than " + MAX_DEPTH + " deep have no delta rule");
        }
        if (view.securityBarrier()) {
            throw new NotDifferentiable("view " + view.name() + " is a security_barrier view: inlining it would let"
                    + " the query's own conditions see rows the view hides, so it is read whole");
        }
        if (view.rowSecurityTable() != null) {
            throw new NotDifferentiable("view " + view.name() + " reads " + view.rowSecurityTable() + ", which has"
                    + " row-level security: inlined, its policies would apply to the engine's role instead of the"
                    + " view's owner, so the view is read whole");
        }
        SqlNode body;
        try {
            body = parser.parse(view.definition());
        } catch (SqlParseException e) {
            String first = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
            throw new NotDifferentiable("view " + view.name() + ": the IVM compiler cannot parse its definition ("
                    + first + ")");
        }
        // Nested views and CTEs of the definition become subqueries too, before the caller descends.
        body = inlineAll(c, IvmCompiler.inlineCommonTableExpressions(body), depth + 1);
        ORIGIN.put(body, view.name());
        return body;
    }

    private static View resolve(Connection c, SqlIdentifier id) throws SQLException {
        String text = String.join(".", id.names.stream().map(Identifiers::quote).toList());
        String sql = """
                SELECT n.nspname, cl.relname, pg_get_viewdef(cl.oid, true),
                       coalesce((SELECT option_value::boolean FROM pg_options_to_table(cl.reloptions)
                                  WHERE option_name = 'security_barrier'), false),
                       (SELECT quote_ident(tn.nspname) || '.' || quote_ident(t.relname)
                          FROM pg_rewrite r
                          JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                          AND d.refclassid = 'pg_class'::regclass
                          JOIN pg_class t ON t.oid = d.refobjid
                          JOIN pg_namespace tn ON tn.oid = t.relnamespace
                         WHERE r.ev_class = cl.oid AND t.relrowsecurity LIMIT 1)
                  FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace
                 WHERE cl.oid = to_regclass(?) AND cl.relkind = 'v'
                   AND n.nspname NOT IN ('pg_catalog', 'information_schema')""";
        try (PreparedStatement ps = Jdbc.prepare(c, sql, text); ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return null;
            }
            String definition = rs.getString(3).strip();
            while (definition.endsWith(";")) {
                definition = definition.substring(0, definition.length() - 1).strip();
            }
            return new View(new QualifiedName(rs.getString(1), rs.getString(2)), definition, rs.getBoolean(4),
                    rs.getString(5));
        }
    }
}
