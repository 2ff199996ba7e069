package io.pgtrickle.core.ivm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.util.SqlBasicVisitor;

/**
 * The EXISTS subqueries of the term that re-evaluates the outer rows a change may flip, made to
 * run once per outer row ({@code OFFSET 0}) when the touch condition narrowed those rows down and
 * the subquery looks its table up through an index.
 *
 * <p>That term compares each candidate outer row's condition now and before the change. Its
 * candidates are few (the outer rows correlated with a changed row: q4's orders of the changed
 * lineitems), but PostgreSQL places the comparison on the scan of the outer table, before the
 * semi-join with the changes that narrows them, and estimates it for every row of that scan; it
 * then turns the EXISTS into a hashed subplan over the whole subquery table, now and as it was
 * (q4: two scans of all of lineitem for 10 candidate orders). {@code OFFSET 0} keeps an EXISTS
 * a correlated subplan (PostgreSQL neither pulls it up nor hashes a subquery with OFFSET); its
 * cost per row is then an index probe, and the planner reaches the outer table from the changes
 * (a nested loop over the changed keys), so the comparison runs for the candidates alone.
 *
 * <p>Exact: {@code OFFSET 0} returns every row, so the EXISTS has the same value. Only EXISTS whose
 * correlation (an equality between one of its tables' columns and an outer name) reaches an
 * index's first column are changed, and only where the touch condition narrows the rows: for an
 * unindexed lookup, or for every outer row, one hashed pass is cheaper.
 */
final class PerRowExists {
    private PerRowExists() {
    }

    /** {@code condition} with its indexed, correlated EXISTS (not those nested in other subqueries) kept per row. */
    static String rewrite(String condition, Map<List<String>, BaseTable> tables) {
        SqlNode tree = SqlTrees.parseExpression(condition);
        boolean[] changed = {false};
        tree.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                if (call.getKind() == SqlKind.EXISTS && call.operand(0) instanceof SqlSelect select) {
                    if (select.getFetch() == null && select.getOffset() == null && indexedCorrelation(select, tables)) {
                        select.setOffset(SqlLiteral.createExactNumeric("0", SqlParserPos.ZERO));
                        changed[0] = true;
                    }
                    return null;
                }
                if (SqlTrees.isQuery(call)) {
                    return null;
                }
                return super.visit(call);
            }
        });
        return changed[0] ? SqlTrees.sql(tree) : condition;
    }

    /** Whether an equality of WHERE (under AND) compares an indexed first column of one of its tables with an outer name. */
    static boolean indexedCorrelation(SqlSelect select, Map<List<String>, BaseTable> tables) {
        Map<String, BaseTable> aliases = new java.util.LinkedHashMap<>();
        if (!collect(select.getFrom(), tables, aliases) || select.getWhere() == null) {
            return false;
        }
        List<SqlNode> conjuncts = new ArrayList<>(List.of(select.getWhere()));
        while (!conjuncts.isEmpty()) {
            SqlNode c = conjuncts.remove(conjuncts.size() - 1);
            if (c.getKind() == SqlKind.AND) {
                conjuncts.addAll(((SqlCall) c).getOperandList());
            } else if (c.getKind() == SqlKind.EQUALS) {
                SqlNode a = ((SqlCall) c).operand(0);
                SqlNode b = ((SqlCall) c).operand(1);
                if (indexedInner(a, aliases) && outer(b, aliases) || indexedInner(b, aliases) && outer(a, aliases)) {
                    return true;
                }
            }
        }
        return false;
    }

    private static boolean indexedInner(SqlNode side, Map<String, BaseTable> aliases) {
        if (!(side instanceof SqlIdentifier id) || id.isStar() || id.names.size() > 2) {
            return false;
        }
        String column = id.names.get(id.names.size() - 1);
        List<BaseTable> owners = aliases.entrySet().stream().filter(e -> e.getValue().columns().contains(column)
                && (id.isSimple() || id.names.get(0).equals(e.getKey()))).map(Map.Entry::getValue).toList();
        return owners.size() == 1 && owners.get(0).indexLeads().contains(column);
    }

    /** A name no table of the subquery has: it belongs to an outer query. */
    private static boolean outer(SqlNode side, Map<String, BaseTable> aliases) {
        if (!(side instanceof SqlIdentifier id) || id.isStar() || id.names.size() > 2) {
            return false;
        }
        String column = id.names.get(id.names.size() - 1);
        return id.isSimple() ? aliases.values().stream().noneMatch(t -> t.columns().contains(column))
                : !aliases.containsKey(id.names.get(0));
    }

    /** The tables of a FROM of tables and inner or comma joins, by alias; false for anything else. */
    private static boolean collect(SqlNode from, Map<List<String>, BaseTable> tables, Map<String, BaseTable> aliases) {
        if (from instanceof SqlJoin join) {
            return collect(join.getLeft(), tables, aliases) && collect(join.getRight(), tables, aliases);
        }
        SqlIdentifier id = from instanceof SqlIdentifier i ? i
                : from != null && from.getKind() == SqlKind.AS && ((SqlCall) from).operand(0) instanceof SqlIdentifier i ? i : null;
        BaseTable table = id == null ? null : tables.get(id.names);
        if (table == null) {
            return false;
        }
        String alias = from instanceof SqlIdentifier ? id.names.get(id.names.size() - 1)
                : ((SqlIdentifier) ((SqlCall) from).operand(1)).getSimple();
        aliases.put(alias, table);
        return true;
    }
}
