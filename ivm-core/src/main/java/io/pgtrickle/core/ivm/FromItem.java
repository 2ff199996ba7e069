package io.pgtrickle.core.ivm;

import io.pgtrickle.core.sql.Identifiers;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * An item of a defining query's FROM clause under the alias the query uses for it: a table, a
 * subquery (a derived table or an inlined CTE) compiled into its own plan, or a call of a
 * non-volatile function in FROM ({@link FromFunction}): no state and no changes of its own, so every
 * delta term renders it as written, over whichever version of the items it references that term
 * uses. Outer joins are
 * differentiated as unions of inner joins in which a side may be {@code nulled}: replaced by one
 * row of NULLs.
 *
 * @param index position in the FROM clause, left to right
 * @param alias the alias expressions use (the table name when none is given)
 * @param columns its column names, in order
 * @param table the table, or null for a subquery
 * @param derived the subquery's plan, or null for a table
 * @param function the function call with its alias and column aliases as PostgreSQL SQL
 *     ({@code unnest("e"."tags") AS "t" ("tag")}), or null for a table or subquery
 * @param nulled whether this item stands for one row of NULLs
 */
public record FromItem(int index, String alias, List<String> columns, BaseTable table, IvmPlan derived, String function,
                       boolean nulled) {
    public FromItem {
        columns = List.copyOf(columns);
    }

    static FromItem table(int index, String alias, BaseTable table) {
        return new FromItem(index, alias, table.columns(), table, null, null, false);
    }

    static FromItem derived(int index, String alias, IvmPlan plan) {
        return new FromItem(index, alias, plan.names(), null, plan, null, false);
    }

    static FromItem function(int index, String alias, List<String> columns, String call) {
        return new FromItem(index, alias, columns, null, null, call, false);
    }

    FromItem asNulled() {
        return new FromItem(index, alias, columns, table, derived, function, true);
    }

    String quotedAlias() {
        return Identifiers.quote(alias);
    }

    /** The base tables this item reads. */
    Set<Long> relids() {
        return nulled || function != null ? Set.of() : table != null ? Set.of(table.relid()) : derived.relids();
    }

    boolean changed(DeltaContext ctx) {
        return ctx.changedAny(relids());
    }

    private String columnList(String qualifier) {
        return columns.stream().map(c -> (qualifier == null ? "" : qualifier + ".") + Identifiers.quote(c))
                .collect(Collectors.joining(", "));
    }

    /** The rows as they are now (in the refresh snapshot); they weigh 1. */
    String current() {
        if (function != null) {
            // Nulled: one row of NULLs under the function's column names; LATERAL, as its arguments may
            // reference earlier items.
            return nulled ? "LATERAL (SELECT " + quotedAlias() + ".* FROM (SELECT 1) __pgt_one LEFT JOIN " + function
                    + " ON false) AS " + quotedAlias() : function;
        }
        if (nulled) {
            return "(SELECT __pgt_n.* FROM (SELECT 1) __pgt_one LEFT JOIN " + (table != null ? table.name().quoted()
                    : "(" + derived.currentSql() + ")") + " __pgt_n ON false) AS " + quotedAlias();
        }
        return table != null ? table.name().quoted() + " AS " + quotedAlias() : "(" + derived.currentSql() + ") AS " + quotedAlias();
    }

    /** The window's changes of this item, with their weights ({@code __pgt_w}). */
    String delta(DeltaContext ctx) {
        if (function != null) {
            throw new IllegalStateException("a function in FROM has no changes of its own");
        }
        return "(" + (table != null ? ctx.changes(table) : derived.delta(ctx)) + ") AS " + quotedAlias();
    }

    /** The rows as they were at the previous frontier, as a Z-set: now, minus this window's changes. */
    String previous(DeltaContext ctx) {
        if (function != null) {
            return current();
        }
        String now = table != null ? table.name().quoted() : "(" + derived.currentSql() + ") __pgt_n";
        return "(SELECT " + columnList(null) + ", 1::bigint AS __pgt_w FROM " + now
                + " UNION ALL SELECT " + columnList("__pgt_p") + ", -__pgt_p.__pgt_w FROM ("
                + (table != null ? keyedChanges(ctx) : derived.delta(ctx)) + ") AS __pgt_p) AS " + quotedAlias();
    }

    /**
     * The table's changes, indexed on its key's first column: a join can then reach the rows as
     * they were through the key, both the table's and its changes' (an index on every member of a
     * union, or none is used).
     */
    private String keyedChanges(DeltaContext ctx) {
        return table.primaryKey().isEmpty() ? ctx.changes(table) : ctx.probedChanges(table, Set.of(table.primaryKey().get(0)));
    }

    /** The rows exactly as they were at the previous frontier (a multiset, for non-linear operators). */
    String old(DeltaContext ctx) {
        if (!changed(ctx)) {
            return current();
        }
        if (table != null) {
            return ctx.old(table) + " AS " + quotedAlias();
        }
        String cols = columnList(null);
        String z = ctx.cte("__pgt_oldz", "SELECT " + cols + ", sum(__pgt_w) AS __pgt_w FROM (SELECT " + cols
                + ", 1::bigint AS __pgt_w FROM (" + derived.currentSql() + ") __pgt_n UNION ALL SELECT " + cols
                + ", -__pgt_w FROM (" + derived.delta(ctx) + ") __pgt_p) __pgt_u GROUP BY " + cols);
        return "(SELECT " + columnList("__pgt_z") + " FROM " + z + " __pgt_z, generate_series(1, __pgt_z.__pgt_w)) AS "
                + quotedAlias();
    }
}
