package io.pgtrickle.core.ivm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.JoinConditionType;
import org.apache.calcite.sql.JoinType;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.util.SqlBasicVisitor;

/**
 * A subquery inside an expression (EXISTS, IN, a scalar subquery, the NOT EXISTS of an outer
 * join's unmatched rows). A change to its tables can flip the expression for rows of the outer
 * query; which rows, the {@code touch} condition narrows down when it can.
 *
 * @param relids the tables it reads
 * @param items its tables under their aliases, when it is a plain inner join of tables with no
 *     grouping and no nested subquery (else empty: any outer row may flip)
 * @param condition its WHERE and ON conditions, over {@code items} and the outer query: a changed row
 *     able to flip the expression for an outer row satisfies it together with rows of the other items
 * @param inItem for {@code v IN (SELECT x …)}: x, evaluated inside the subquery; else null
 * @param inOperand v, evaluated in the outer query (never moved inside, where a name could mean
 *     a column of the subquery's tables); else null
 */
record Subquery(Set<Long> relids, List<Item> items, String condition, String inItem, String inOperand) {
    /**
     * A table of the subquery under its alias.
     *
     * @param probed its columns that an equality of the subquery's conditions compares with
     *     something else (an outer row's column, mostly): the touch condition looks its changes up
     *     by them, once per outer row, so the window's rows get an index on each
     * @param correlation for each outer name (SQL) that an equality of the conditions compares with
     *     one of its columns, that column: a changed row can reach only outer rows whose name
     *     equals its column
     */
    record Item(BaseTable table, String alias, Set<String> probed, Map<String, String> correlation) {
    }

    boolean narrowable() {
        return !items.isEmpty();
    }

    /**
     * Whether a change of the window may flip the expression for every outer row alike: its tables
     * changed and it is opaque (grouped, nested) or an EXISTS or scalar subquery that no equality
     * ties to the outer row, so {@link #touch} cannot narrow the rows down.
     */
    boolean reachesEveryRow(DeltaContext ctx) {
        return ctx.changedAny(relids)
                && (items.isEmpty() || inItem == null && items.stream().allMatch(i -> i.correlation().isEmpty()));
    }

    /**
     * The outer rows a change of the window may flip, as a condition; null when any row may flip
     * (the subquery is too complex to narrow down), or "false" when none of its tables changed.
     * For each occurrence of a changed table: some change of it joins the other tables (as now or
     * as before) under the subquery's conditions.
     */
    String touch(DeltaContext ctx) {
        if (!ctx.changedAny(relids)) {
            return "false";
        }
        if (items.isEmpty()) {
            return null;
        }
        List<String> parts = new ArrayList<>();
        for (Item changed : items) {
            if (!ctx.changed(changed.table().relid())) {
                continue;
            }
            String from = items.stream().map(i -> i == changed ? "(" + ctx.probedChanges(i.table(), i.probed()) + ") AS "
                            + quote(i.alias())
                    : ctx.changed(i.table().relid()) ? "(SELECT " + i.table().columnList(null) + " FROM " + i.table().name().quoted()
                            + " UNION ALL SELECT " + i.table().columnList("__pgt_x") + " FROM (" + ctx.changes(i.table())
                            + ") __pgt_x) AS " + quote(i.alias())
                    : i.table().name().quoted() + " AS " + quote(i.alias())).collect(Collectors.joining(", "));
            String changes = " FROM " + from + " WHERE " + condition;
            if (inItem == null) {
                parts.add("EXISTS (SELECT 1" + changes + ")");
            } else {
                // v IN (…) can flip when a change carries v itself, or a NULL (unknown for every v), or when v is
                // NULL (unknown unless the set is empty).
                parts.add("(" + inOperand + " IN (SELECT " + inItem + changes + ") OR EXISTS (SELECT 1" + changes + " AND "
                        + inItem + " IS NULL) OR (" + inOperand + " IS NULL AND EXISTS (SELECT 1" + changes + ")))");
            }
        }
        return "(" + String.join(" OR ", parts) + ")";
    }

    private static String quote(String identifier) {
        return io.pgtrickle.core.sql.Identifiers.quote(identifier);
    }

    /** The outer rows any change of the window may flip, or null for all of them. */
    static String touchAll(List<Subquery> subqueries, DeltaContext ctx) {
        List<String> parts = new ArrayList<>();
        for (Subquery s : subqueries) {
            String t = s.touch(ctx);
            if (t == null) {
                return null;
            }
            if (!t.equals("false")) {
                parts.add(t);
            }
        }
        return parts.isEmpty() ? "false" : parts.stream().collect(Collectors.joining(" OR ", "(", ")"));
    }

    /** The subqueries inside an expression (not those nested in another subquery). */
    static List<Subquery> in(SqlNode expr, Map<List<String>, BaseTable> tables) {
        List<Subquery> out = new ArrayList<>();
        if (expr == null) {
            return out;
        }
        expr.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                if (SqlTrees.isQuery(call)) {
                    out.add(of(call, null, tables));
                    return null;
                }
                if ((call.getKind() == SqlKind.IN || call.getKind() == SqlKind.NOT_IN) && SqlTrees.isQuery(call.operand(1))) {
                    out.add(of(call.operand(1), call.operand(0), tables));
                    return call.operand(0).accept(this);
                }
                return super.visit(call);
            }
        });
        return out;
    }

    /** @param inOperand the left side of IN / NOT IN, or null */
    static Subquery of(SqlNode query, SqlNode inOperand, Map<List<String>, BaseTable> tables) {
        Set<Long> relids = SqlTrees.tables(query).stream().map(id -> tables.get(id.names))
                .filter(t -> t != null).map(BaseTable::relid).collect(Collectors.toSet());
        Subquery opaque = new Subquery(relids, List.of(), null, null, null);
        if (!(query instanceof SqlSelect select) || hasNestedQuery(select)) {
            return opaque;
        }
        if ((select.getGroup() != null || select.getHaving() != null) && !inOnGroupKey(select, inOperand)) {
            return opaque;
        }
        List<Item> items = new ArrayList<>();
        List<String> conditions = new ArrayList<>();
        List<SqlNode> conditionNodes = new ArrayList<>();
        if (!flatten(select.getFrom(), tables, items, conditions, conditionNodes)) {
            return opaque;
        }
        if (select.getWhere() != null) {
            conditions.add("(" + SqlTrees.sql(select.getWhere()) + ")");
            conditionNodes.add(select.getWhere());
        }
        items = withProbedColumns(items, conditionNodes);
        String x = null;
        String v = null;
        if (inOperand != null && select.getSelectList().size() == 1 && !(inOperand.getKind() == SqlKind.ROW)) {
            SqlNode item = select.getSelectList().get(0);
            if (item.getKind() == SqlKind.AS) {
                item = ((SqlCall) item).operand(0);
            }
            x = "(" + SqlTrees.sql(item) + ")";
            v = "(" + SqlTrees.sql(inOperand) + ")";
        }
        return new Subquery(relids, items, conditions.isEmpty() ? "true" : String.join(" AND ", conditions), x, v);
    }

    /**
     * {@code v IN (SELECT x … GROUP BY …, x, … HAVING …)}: a change reaches only the group of its own
     * x, so only outer rows whose v equals it (or is NULL) can flip — the condition on x covers it.
     */
    private static boolean inOnGroupKey(SqlSelect select, SqlNode inOperand) {
        if (inOperand == null || select.getGroup() == null || select.getSelectList().size() != 1) {
            return false;
        }
        SqlNode item = select.getSelectList().get(0);
        SqlNode x = item.getKind() == SqlKind.AS ? ((SqlCall) item).operand(0) : item;
        return select.getGroup().stream().anyMatch(g -> g.equalsDeep(x, org.apache.calcite.util.Litmus.IGNORE));
    }

    /**
     * The items with the columns their equalities compare ({@code alias.col = …}, or an unqualified
     * {@code col = …} when only that item has the column), in the AND-ed conditions.
     */
    private static List<Item> withProbedColumns(List<Item> items, List<SqlNode> conditions) {
        Map<Item, Set<String>> probed = new java.util.LinkedHashMap<>();
        Map<Item, Map<String, String>> correlation = new java.util.HashMap<>();
        items.forEach(i -> probed.put(i, new java.util.TreeSet<>()));
        items.forEach(i -> correlation.put(i, new java.util.TreeMap<>()));
        List<SqlNode> conjuncts = new ArrayList<>(conditions);
        while (!conjuncts.isEmpty()) {
            SqlNode c = conjuncts.remove(conjuncts.size() - 1);
            if (c.getKind() == SqlKind.AND) {
                conjuncts.addAll(((SqlCall) c).getOperandList());
            } else if (c.getKind() == SqlKind.EQUALS) {
                List<SqlNode> sides = ((SqlCall) c).getOperandList();
                for (int s = 0; s < 2; s++) {
                    Item owner = owner(sides.get(s), items);
                    if (owner != null) {
                        String column = ((SqlIdentifier) sides.get(s)).names.get(((SqlIdentifier) sides.get(s)).names.size() - 1);
                        probed.get(owner).add(column);
                        if (outer(sides.get(1 - s), items)) {
                            correlation.get(owner).putIfAbsent(SqlTrees.sql(sides.get(1 - s)), column);
                        }
                    }
                }
            }
        }
        return items.stream().map(i -> new Item(i.table(), i.alias(), Set.copyOf(probed.get(i)), Map.copyOf(correlation.get(i))))
                .toList();
    }

    /** The one item whose column {@code side} names ({@code alias.col}, or {@code col} only it has), or null. */
    private static Item owner(SqlNode side, List<Item> items) {
        if (!(side instanceof SqlIdentifier id) || id.isStar() || id.names.size() > 2) {
            return null;
        }
        String column = id.names.get(id.names.size() - 1);
        List<Item> owners = items.stream().filter(i -> i.table().columns().contains(column)
                && (id.isSimple() || id.names.get(0).equals(i.alias()))).toList();
        return owners.size() == 1 ? owners.get(0) : null;
    }

    /** A name none of the items has: it resolves to the outer query. */
    private static boolean outer(SqlNode side, List<Item> items) {
        if (!(side instanceof SqlIdentifier id) || id.isStar() || id.names.size() > 2) {
            return false;
        }
        String column = id.names.get(id.names.size() - 1);
        return id.isSimple() ? items.stream().noneMatch(i -> i.table().columns().contains(column))
                : items.stream().noneMatch(i -> i.alias().equals(id.names.get(0)));
    }

    /**
     * A condition every outer row that {@link #touchAll} keeps satisfies, in a form PostgreSQL can
     * join by: {@code e IN (SELECT col FROM changes UNION ALL …)}, when every changed table of
     * every subquery is correlated with the same outer name e ({@code col = e} among its AND-ed
     * conditions: a changed row reaches only outer rows whose e equals its col). Null when there
     * is no such name. Added beside the touch condition, it changes no row; the planner can then
     * reach the outer rows from the changes through an index on e, where an OR of EXISTS
     * (q21's EXISTS and NOT EXISTS over lineitem) made it test every outer row.
     */
    static String impliedKey(List<Subquery> subqueries, DeltaContext ctx) {
        List<Item> changedItems = new ArrayList<>();
        for (Subquery s : subqueries) {
            if (!ctx.changedAny(s.relids())) {
                continue;
            }
            if (s.items().isEmpty()) {
                return null;
            }
            s.items().stream().filter(i -> ctx.changed(i.table().relid())).forEach(changedItems::add);
        }
        if (changedItems.isEmpty()) {
            return null;
        }
        Set<String> common = new java.util.TreeSet<>(changedItems.get(0).correlation().keySet());
        changedItems.forEach(i -> common.retainAll(i.correlation().keySet()));
        if (common.isEmpty()) {
            return null;
        }
        String e = common.iterator().next();
        return "(" + e + ") IN (" + changedItems.stream().map(i -> "SELECT " + quote(i.correlation().get(e)) + " FROM ("
                + ctx.probedChanges(i.table(), i.probed()) + ") __pgt_k").collect(Collectors.joining(" UNION ALL ")) + ")";
    }

    /** A FROM clause of tables joined by inner or comma joins, as items and conditions; false otherwise. */
    private static boolean flatten(SqlNode from, Map<List<String>, BaseTable> tables, List<Item> items,
                                   List<String> conditions, List<SqlNode> conditionNodes) {
        if (from instanceof SqlJoin join) {
            boolean inner = join.getJoinType() == JoinType.INNER || join.getJoinType() == JoinType.COMMA
                    || join.getJoinType() == JoinType.CROSS;
            if (!inner || join.isNatural() || join.getConditionType() == JoinConditionType.USING) {
                return false;
            }
            if (join.getCondition() != null && join.getConditionType() == JoinConditionType.ON) {
                conditions.add("(" + SqlTrees.sql(join.getCondition()) + ")");
                conditionNodes.add(join.getCondition());
            }
            return flatten(join.getLeft(), tables, items, conditions, conditionNodes)
                    && flatten(join.getRight(), tables, items, conditions, conditionNodes);
        }
        SqlIdentifier id = from instanceof SqlIdentifier i ? i
                : from != null && from.getKind() == SqlKind.AS && ((SqlCall) from).operandCount() == 2
                && ((SqlCall) from).operand(0) instanceof SqlIdentifier i ? i : null;
        BaseTable table = id == null ? null : tables.get(id.names);
        if (table == null) {
            return false;
        }
        String alias = from instanceof SqlIdentifier i ? i.names.get(i.names.size() - 1)
                : ((SqlIdentifier) ((SqlCall) from).operand(1)).getSimple();
        items.add(new Item(table, alias, Set.of(), Map.of()));
        return true;
    }

    private static boolean hasNestedQuery(SqlSelect select) {
        return SqlTrees.containsQuery(select.getSelectList()) || SqlTrees.containsQuery(select.getWhere());
    }
}
