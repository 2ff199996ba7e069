package io.pgtrickle.core.ivm;

import io.pgtrickle.core.sql.Identifiers;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlFunction;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.util.SqlBasicVisitor;

/**
 * The delta rule of a function in FROM ({@code unnest(e.tags) AS t(tag)},
 * {@code jsonb_array_elements(e.doc -> 'items') AS x(item)}, {@code generate_series(1, e.n) AS g(i)},
 * with or without LATERAL, WITH ORDINALITY included).
 *
 * <p>Such a function has no state and no changes of its own: its rows are a function of the row of
 * the earlier FROM items its arguments reference (a constant relation when they reference none).
 * So Δ(E ⋈ f(E)) = ΔE ⋈ f(ΔE): every delta term applies the call, as written, to whichever
 * version of the referenced items that term uses (the change window with its weights, the rows as
 * before, or the current table), and each output row carries the weight of the row it came from.
 * The function is never a delta source itself. This holds only when the call is a function of its
 * arguments within the refresh: a volatile function (or argument) is refused, and so is a subquery
 * among the arguments (it would read tables outside the FROM clause's deltas).
 *
 * <p>On an outer join's nullable side ({@code LEFT JOIN LATERAL f(e.x) ON c}) the usual union of
 * inner joins applies: the NULL-padded branch's {@code NOT EXISTS (SELECT 1 FROM f(e.x) WHERE c)}
 * reads no table, so it never flips by itself and is evaluated on each term's version of e.
 */
final class FromFunction {
    private FromFunction() {
    }

    /** Whether {@code target} (a FROM item without its alias) is a function call: UNNEST or TABLE(f(…)). */
    static boolean is(SqlNode target) {
        return target.getKind() == SqlKind.UNNEST || target.getKind() == SqlKind.COLLECTION_TABLE;
    }

    /**
     * The FROM item for the call {@code target}, its output columns as PostgreSQL names them after
     * the earlier {@code items} (which its arguments may reference).
     *
     * @param node the item as written, with its AS alias (column aliases) if any
     */
    static FromItem item(Connection c, SqlNode node, SqlNode target, String alias, List<FromItem> items)
            throws NotDifferentiable, SQLException {
        if (SqlTrees.containsQuery(target)) {
            throw new NotDifferentiable("a subquery among the arguments of a function in FROM has no delta rule yet");
        }
        Set<String> functions = functionNames(target);
        for (String f : functions) {
            if (IvmCompiler.VOLATILE.contains(f)) {
                throw new NotDifferentiable("the volatile function " + f + "() in FROM makes the result depend on when it"
                        + " is computed");
            }
        }
        String name = target.getKind() == SqlKind.UNNEST ? "unnest" : functions.iterator().next();
        requireNonVolatile(c, functions);
        String itemAlias = alias != null ? alias : name;
        String call = SqlTrees.sql(node) + (alias == null ? " AS " + Identifiers.quote(itemAlias) : "");
        // The earlier items as they are now, cross joined (LIMIT 0: only the names are read).
        StringBuilder from = new StringBuilder();
        for (FromItem earlier : items) {
            from.append(earlier.current()).append(" CROSS JOIN ");
        }
        List<String> columns = new ArrayList<>();
        try (var s = c.createStatement();
             var rs = s.executeQuery("SELECT " + Identifiers.quote(itemAlias) + ".* FROM " + from + call + " LIMIT 0")) {
            var md = rs.getMetaData();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                columns.add(md.getColumnLabel(i));
            }
        }
        return FromItem.function(items.size(), itemAlias, columns, call);
    }

    /** The names of the functions the call and its arguments apply, the call's own first. */
    private static Set<String> functionNames(SqlNode target) {
        Set<String> out = new LinkedHashSet<>();
        if (target.getKind() == SqlKind.UNNEST) {
            out.add("unnest");
        }
        target.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                if (call.getOperator() instanceof SqlFunction f) {
                    out.add(f.getName().toLowerCase(Locale.ROOT));
                }
                return super.visit(call);
            }

            @Override
            public Void visit(org.apache.calcite.sql.SqlIdentifier id) {
                if (id.isSimple() && IvmCompiler.VOLATILE.contains(id.getSimple().toLowerCase(Locale.ROOT))) {
                    out.add(id.getSimple().toLowerCase(Locale.ROOT)); // current_timestamp and the like
                }
                return null;
            }
        });
        return out;
    }

    /**
     * Refuses a call whose functions PostgreSQL declares VOLATILE (any function of that name, any
     * argument types: the resolved overload is not known here, so the check errs towards refusing).
     */
    private static void requireNonVolatile(Connection c, Set<String> functions) throws NotDifferentiable, SQLException {
        try (var ps = c.prepareStatement("SELECT string_agg(DISTINCT proname, ', ' ORDER BY proname) FROM pg_proc"
                + " WHERE provolatile = 'v' AND proname = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", functions.toArray()));
            try (var rs = ps.executeQuery()) {
                rs.next();
                String found = rs.getString(1);
                if (found != null) {
                    throw new NotDifferentiable("the volatile function " + found + "() in FROM makes the result depend on"
                            + " when it is computed");
                }
            }
        }
    }

}
