package io.pgtrickle.core.ivm;

import io.pgtrickle.core.query.QueryParser;
import io.pgtrickle.core.sql.QualifiedName;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOrderBy;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.SqlWithItem;
import org.apache.calcite.sql.util.SqlBasicVisitor;

/**
 * Refuses queries whose result is not a function of the tables' data, which no delta can track:
 * the delta of such a query removes rows a fresh run never produced.
 *
 * <ul>
 *   <li>System columns: {@code xmin xmax cmin cmax ctid} change when a row is rewritten (any
 *       UPDATE, VACUUM FULL, CLUSTER) without its data changing; {@code tableoid} is a function
 *       of where a row lives, but no captured row change carries it.</li>
 *   <li>{@code DISTINCT ON}, and {@code LIMIT}/{@code OFFSET} of a subquery (the query's own is
 *       top-k, refused as such), keep rows chosen by an order; unless that order is total,
 *       PostgreSQL picks among tied rows as its plan happens to read them.
 *       "Total" is decided conservatively: every output is a DISTINCT ON key, or the ORDER BY
 *       names every primary-key column of every table of that SELECT's FROM (a grouped SELECT:
 *       every GROUP BY expression). A FROM subquery has no key here, so it never fixes the order.</li>
 * </ul>
 */
final class Determinism {
    private static final Set<String> SYSTEM_COLUMNS = Set.of("xmin", "xmax", "cmin", "cmax", "ctid", "tableoid");
    private static final String FIX = " — the result is not a function of the data";

    private Determinism() {
    }

    /** @throws NotDifferentiable naming the construct and why, with the way to make it exact */
    static void requireFunctionOfData(SqlNode root, Map<List<String>, BaseTable> tables) throws NotDifferentiable {
        Set<String> aliases = definedNames(root);
        Map<SqlSelect, SqlNodeList> orders = new IdentityHashMap<>();
        // The whole query's own ORDER BY … LIMIT is top-k, refused on its own terms by the compiler.
        SqlNode top = root instanceof org.apache.calcite.sql.SqlWith with ? with.body : root;
        String[] problem = new String[1];
        // The inlined views being visited, innermost first: a problem inside one names it.
        Deque<QualifiedName> views = new ArrayDeque<>();
        List<QualifiedName> problemViews = new ArrayList<>();
        root.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                if (problem[0] != null) {
                    return null;
                }
                QualifiedName view = ViewInliner.originOf(call);
                if (view != null) {
                    views.push(view);
                }
                Void result = check(call);
                if (problem[0] != null && problemViews.isEmpty()) {
                    problemViews.addAll(views);
                }
                if (view != null) {
                    views.pop();
                }
                return result;
            }

            private Void check(SqlCall call) {
                if (call instanceof SqlOrderBy order) {
                    if (order.query instanceof SqlSelect select) {
                        orders.put(select, order.orderList);
                    }
                    if (order != top && (order.fetch != null || order.offset != null)
                            && !totalOrder(order.query, order.orderList, tables)) {
                        problem[0] = "LIMIT/OFFSET without an ORDER BY that fixes the rows (one naming every primary-key"
                                + " column of the tables it reads) keeps whichever rows PostgreSQL reads first" + FIX
                                + "; order by a unique key as well";
                    }
                } else if (call instanceof SqlSelect select) {
                    List<SqlNode> on = QueryParser.distinctOn(select);
                    SqlNodeList order = orders.getOrDefault(select, select.getOrderList());
                    if (!on.isEmpty() && !onlyKeysOutput(select, on) && !totalOrder(select, order, tables)) {
                        problem[0] = "DISTINCT ON without an ORDER BY that fixes the row kept per key (one naming every"
                                + " primary-key column of the tables it reads after the DISTINCT ON keys) keeps whichever"
                                + " row PostgreSQL reads first" + FIX + "; add the key to the ORDER BY";
                    }
                }
                return problem[0] == null ? super.visit(call) : null;
            }

            @Override
            public Void visit(SqlIdentifier id) {
                String last = id.names.get(id.names.size() - 1).toLowerCase(Locale.ROOT);
                if (problem[0] == null && !id.isStar() && SYSTEM_COLUMNS.contains(last) && !aliases.contains(last)) {
                    problemViews.addAll(views);
                    problem[0] = last.equals("tableoid")
                            ? "the system column tableoid is not part of the captured row changes; name the table instead"
                            : "the system column " + last + " changes whenever PostgreSQL rewrites a row (UPDATE,"
                                    + " VACUUM FULL, CLUSTER) while its data stays the same" + FIX + "; select data columns"
                                    + " instead";
                }
                return null;
            }
        });
        if (problem[0] != null) {
            String message = problem[0];
            for (QualifiedName view : problemViews) { // innermost first
                message = ViewInliner.within(view, message);
            }
            throw new NotDifferentiable(message); // the caller adds "use refresh mode AUTO or FULL"
        }
    }

    /** Names the query defines itself (output and column aliases, CTE names), which may shadow a system column. */
    private static Set<String> definedNames(SqlNode root) {
        Set<String> names = new HashSet<>();
        root.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                if (call.getKind() == SqlKind.AS) {
                    for (SqlNode alias : call.getOperandList().subList(1, call.operandCount())) {
                        if (alias instanceof SqlIdentifier id) {
                            names.add(id.getSimple().toLowerCase(Locale.ROOT));
                        }
                    }
                    call.operand(0).accept(this);
                    return null;
                }
                if (call instanceof SqlWithItem item && item.columnList != null) {
                    item.columnList.forEach(n -> names.add(((SqlIdentifier) n).getSimple().toLowerCase(Locale.ROOT)));
                }
                return super.visit(call);
            }
        });
        return names;
    }

    private static boolean onlyKeysOutput(SqlSelect select, List<SqlNode> on) {
        for (SqlNode item : select.getSelectList()) {
            SqlNode e = item.getKind() == SqlKind.AS ? ((SqlCall) item).operand(0) : item;
            if (on.stream().noneMatch(k -> k.equalsDeep(e, org.apache.calcite.util.Litmus.IGNORE))) {
                return false;
            }
        }
        return true;
    }

    /** Whether {@code order} is total over the rows of {@code query} (see the class comment). */
    private static boolean totalOrder(SqlNode query, SqlNodeList order, Map<List<String>, BaseTable> tables) {
        if (order == null || order.isEmpty() || !(query instanceof SqlSelect select)) {
            return false;
        }
        List<SqlNode> keys = order.getList().stream().map(Determinism::stripDirection).toList();
        if (select.getGroup() != null && !select.getGroup().isEmpty()) {
            return select.getGroup().stream().allMatch(g -> keys.stream()
                    .anyMatch(k -> k.equalsDeep(g, org.apache.calcite.util.Litmus.IGNORE)));
        }
        List<Map.Entry<String, BaseTable>> from = new ArrayList<>();
        if (!fromTables(select.getFrom(), tables, from)) {
            return false;
        }
        for (Map.Entry<String, BaseTable> item : from) {
            BaseTable t = item.getValue();
            if (t.primaryKey().isEmpty()) {
                return false;
            }
            for (String column : t.primaryKey()) {
                if (keys.stream().noneMatch(k -> names(k, item.getKey(), column, t, select))) {
                    return false;
                }
            }
        }
        return true;
    }

    /** Whether the ORDER BY item is a plain reference to {@code alias.column}. */
    private static boolean names(SqlNode key, String alias, String column, BaseTable table, SqlSelect select) {
        if (!(key instanceof SqlIdentifier id)) {
            return false;
        }
        if (id.names.size() >= 2) {
            return id.names.get(id.names.size() - 2).equals(alias) && id.names.get(id.names.size() - 1).equals(column);
        }
        if (!id.getSimple().equals(column)) {
            return false;
        }
        // A bare name means an output column first: it must be this column, not another expression named so.
        for (SqlNode item : select.getSelectList()) {
            if (item.getKind() == SqlKind.AS && ((SqlIdentifier) ((SqlCall) item).operand(1)).getSimple().equals(column)) {
                SqlNode e = ((SqlCall) item).operand(0);
                return e instanceof SqlIdentifier ref && ref.names.get(ref.names.size() - 1).equals(column)
                        && (ref.names.size() == 1 || ref.names.get(ref.names.size() - 2).equals(alias));
            }
        }
        return table.columns().contains(column);
    }

    private static SqlNode stripDirection(SqlNode n) {
        while (n instanceof SqlBasicCall call && (call.getKind() == SqlKind.DESCENDING
                || call.getKind() == SqlKind.NULLS_FIRST || call.getKind() == SqlKind.NULLS_LAST)) {
            n = call.operand(0);
        }
        return n;
    }

    /** The FROM clause's tables under their aliases; false when it holds anything but tables. */
    private static boolean fromTables(SqlNode from, Map<List<String>, BaseTable> tables,
                                      List<Map.Entry<String, BaseTable>> out) {
        if (from == null) {
            return true;
        }
        if (from instanceof SqlJoin join) {
            return fromTables(join.getLeft(), tables, out) && fromTables(join.getRight(), tables, out);
        }
        SqlNode target = from.getKind() == SqlKind.AS ? ((SqlCall) from).operand(0) : from;
        if (!(target instanceof SqlIdentifier id) || !tables.containsKey(id.names)) {
            return false;
        }
        String alias = from.getKind() == SqlKind.AS ? ((SqlIdentifier) ((SqlCall) from).operand(1)).getSimple()
                : id.names.get(id.names.size() - 1);
        out.add(Map.entry(alias, tables.get(id.names)));
        return true;
    }
}
