package io.pgtrickle.core.ivm;

import io.pgtrickle.core.query.QueryParser;
import java.util.List;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.util.Litmus;

/**
 * The WHERE condition as the delta terms evaluate it: every {@code v IN (SELECT x FROM … GROUP BY
 * …, x, … HAVING h)} in a positive position, whose IN operand is a key of the subquery's
 * GROUP BY, is correlated on that key, so that it groups only the rows of the outer row's own
 * group instead of the whole table, before and after the change:
 *
 * <pre>
 *   v IN (SELECT x FROM t WHERE w GROUP BY g HAVING h)
 *   ⟶ EXISTS (SELECT 1 FROM (SELECT x AS __pgt_x FROM t WHERE w GROUP BY g HAVING h) AS __pgt_s
 *             WHERE (v) = __pgt_s.__pgt_x OFFSET 0)
 * </pre>
 *
 * PostgreSQL pushes {@code v = __pgt_x} through the grouping into the subquery's WHERE (it is a
 * condition on a grouping column), so each evaluation reads only the rows with x = v through an
 * index on x (q18: the 4 lineitems of one order instead of all of lineitem). The delta terms
 * evaluate the condition only for their outer rows, which are few (the change joined with the
 * other tables, or the outer rows a change may flip), so the cost follows the change, not the
 * table. {@code OFFSET 0} keeps the EXISTS a correlated subplan: without it PostgreSQL pulls the
 * EXISTS up into a semi-join with the whole grouped subquery, which it then computes in full. The
 * FULL query, the state rebuilds and the group rescans keep the condition as written: there every
 * row is evaluated and one hashed pass is cheaper.
 *
 * <h2>Why it is exact</h2>
 * Let S be the set of x values of the groups that pass HAVING, over the rows that pass w. Every
 * group has one value of x, since x is one of its keys. Write N(v) for the groups with x = v.
 * <ol>
 * <li><b>The EXISTS holds iff v ∈ S.</b> Restricting the subquery's input rows to those with
 *     x = v removes whole groups (those with x ≠ v, or x NULL) and keeps the groups N(v) intact:
 *     a group's rows all have the same x, so either all of them or none pass the restriction, and
 *     HAVING sees exactly the rows it saw before. So some group with x = v passes HAVING after the
 *     restriction iff one did before, that is iff v ∈ S. The comparison is written {@code (v) =
 *     __pgt_x}, v on the left, so it resolves to the operator {@code v IN (…)} (= {@code v = ANY
 *     (…)}) uses.</li>
 * <li><b>NULLs.</b> v IN S is true iff v ∈ S; otherwise it is NULL (v is NULL and S is not empty,
 *     or S holds a NULL) or false. The EXISTS is true iff v ∈ S and otherwise false, never NULL
 *     (x = NULL is never true, and the group with x NULL is filtered out). The two have the same
 *     truth in every case, and differ only in NULL against false.</li>
 * <li><b>Positive position.</b> The rewrite applies only to an IN reached from the root of WHERE
 *     through AND and OR alone. There, NULL and false are interchangeable: whether AND or OR is
 *     true depends only on which operands are true, and WHERE keeps a row iff its condition is
 *     true; the delta terms compare {@code coalesce(condition, false)} before and after, which
 *     again depends only on truth. So replacing an operand by one with the same truth keeps
 *     every term's rows and weights.</li>
 * <li><b>Names.</b> v is evaluated inside the EXISTS, whose only FROM item is {@code __pgt_s}
 *     with the one column {@code __pgt_x}: no name of v can be captured by it (the subquery's
 *     own tables are inside {@code __pgt_s}, out of v's scope), and no name of the subquery can
 *     be captured by the EXISTS level (a FROM item cannot see its siblings). An operand holding a
 *     subquery is left alone.</li>
 * </ol>
 *
 * <h2>Where it is not exact, and is not applied</h2>
 * <ul>
 * <li>{@code NOT IN}, or an IN under NOT, CASE, IS [NOT] NULL, a comparison or a function: there
 *     NULL and false differ ({@code NOT (NULL)} is NULL, {@code NOT (false)} is true), and
 *     {@code v NOT IN S} is false for every v when S holds a NULL — a fact about other groups
 *     that the restriction removes.</li>
 * <li>x not a key of the GROUP BY (an aggregate, say {@code IN (SELECT max(a) … GROUP BY b)}):
 *     restricting the rows on x changes the groups themselves; x = v cannot even be pushed below
 *     the aggregation.</li>
 * <li>IN in the select list or HAVING of the outer query: there its value, NULL included, is
 *     part of the result.</li>
 * <li>No GROUP BY, grouping sets, several select items or a ROW operand, LIMIT/OFFSET or
 *     DISTINCT ON in the subquery: left as written (no gain shown, or the argument above does not
 *     cover them).</li>
 * </ul>
 */
final class GroupKeyPushdown {
    private GroupKeyPushdown() {
    }

    /** {@code where} (SQL) with every eligible IN correlated on its group key; {@code where} itself when none is. */
    static String rewrite(String where) {
        if (where == null) {
            return null;
        }
        SqlNode tree = SqlTrees.parseExpression(where);
        boolean[] changed = {false};
        SqlNode out = positive(tree, changed);
        return changed[0] ? SqlTrees.sql(out) : where;
    }

    /** Rewrites the eligible INs of {@code node}, a node in a positive position. */
    private static SqlNode positive(SqlNode node, boolean[] changed) {
        if (node instanceof SqlBasicCall call && (call.getKind() == SqlKind.AND || call.getKind() == SqlKind.OR)) {
            for (int i = 0; i < call.operandCount(); i++) {
                call.setOperand(i, positive(call.operand(i), changed));
            }
            return call;
        }
        if (node instanceof SqlBasicCall call && call.getKind() == SqlKind.IN && call.operandCount() == 2
                && call.operand(1) instanceof SqlSelect select && eligible(call.operand(0), select)) {
            changed[0] = true;
            return correlated(call.operand(0), select);
        }
        return node;
    }

    /** Whether {@code operand IN (select)} is an IN on a key of the subquery's GROUP BY that the argument above covers. */
    static boolean eligible(SqlNode operand, SqlSelect select) {
        if (operand.getKind() == SqlKind.ROW || SqlTrees.containsQuery(operand)) {
            return false;
        }
        SqlNodeList group = select.getGroup();
        if (group == null || group.isEmpty() || select.getSelectList().size() != 1 || select.getFetch() != null
                || select.getOffset() != null || !QueryParser.distinctOn(select).isEmpty()) {
            return false;
        }
        for (SqlNode g : group) {
            if (g == null || g.getKind() == SqlKind.ROLLUP || g.getKind() == SqlKind.CUBE
                    || g.getKind() == SqlKind.GROUPING_SETS) {
                return false;
            }
        }
        SqlNode x = item(select);
        return !SqlTrees.containsQuery(x) && group.stream().anyMatch(g -> g.equalsDeep(x, Litmus.IGNORE));
    }

    private static SqlNode item(SqlSelect select) {
        SqlNode item = select.getSelectList().get(0);
        return item.getKind() == SqlKind.AS ? ((SqlCall) item).operand(0) : item;
    }

    private static SqlNode correlated(SqlNode operand, SqlSelect select) {
        select.setSelectList(new SqlNodeList(List.of(SqlTrees.as(item(select), "__pgt_x")), SqlParserPos.ZERO));
        String sql = "EXISTS (SELECT 1 FROM " + SqlTrees.sql(select) + " AS __pgt_s WHERE (" + SqlTrees.sql(operand)
                + ") = __pgt_s.__pgt_x OFFSET 0)";
        return SqlTrees.parseExpression(sql);
    }
}
