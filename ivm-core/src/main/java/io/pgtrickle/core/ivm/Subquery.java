package io.pgtrickle.core.ivm;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
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
 * @param table its only table, when it reads exactly one table and has no nested subquery (else null)
 * @param alias the alias of that table inside the subquery
 * @param condition a condition over that table (under {@code alias}) and the outer query that
 *     every changed row able to flip the expression satisfies
 */
record Subquery(Set<Long> relids, BaseTable table, String alias, String condition) {

    /**
     * The outer rows a change of the window may flip, as a condition; null when any row may flip
     * (the subquery is too complex to narrow down), or "false" when none of its tables changed.
     */
    String touch(DeltaContext ctx) {
        if (!ctx.changedAny(relids)) {
            return "false";
        }
        if (table == null) {
            return null;
        }
        return "EXISTS (SELECT 1 FROM (" + ctx.changes(table) + ") AS " + io.pgtrickle.core.sql.Identifiers.quote(alias)
                + " WHERE " + condition + ")";
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
        if (!(query instanceof SqlSelect select) || select.getGroup() != null || select.getHaving() != null
                || hasNestedQuery(select)) {
            return new Subquery(relids, null, null, null);
        }
        SqlNode from = select.getFrom();
        SqlIdentifier id = from instanceof SqlIdentifier i ? i
                : from != null && from.getKind() == SqlKind.AS && ((SqlCall) from).operand(0) instanceof SqlIdentifier i ? i : null;
        BaseTable table = id == null ? null : tables.get(id.names);
        if (table == null || from.getKind() == SqlKind.AS && ((SqlCall) from).operandCount() > 2) {
            return new Subquery(relids, null, null, null);
        }
        String alias = from instanceof SqlIdentifier i ? i.names.get(i.names.size() - 1)
                : ((SqlIdentifier) ((SqlCall) from).operand(1)).getSimple();
        String condition = select.getWhere() == null ? "true" : "(" + SqlTrees.sql(select.getWhere()) + ")";
        if (inOperand != null && select.getSelectList().size() == 1 && !(inOperand.getKind() == SqlKind.ROW)) {
            SqlNode item = select.getSelectList().get(0);
            if (item.getKind() == SqlKind.AS) {
                item = ((SqlCall) item).operand(0);
            }
            String x = "(" + SqlTrees.sql(item) + ")";
            String v = "(" + SqlTrees.sql(inOperand) + ")";
            // A NULL on either side makes IN unknown for every outer row: only then do other rows flip.
            condition += " AND (" + x + " = " + v + " OR " + x + " IS NULL OR " + v + " IS NULL)";
        }
        return new Subquery(relids, table, alias, condition);
    }

    private static boolean hasNestedQuery(SqlSelect select) {
        boolean[] found = {false};
        SqlBasicVisitor<Void> v = new SqlBasicVisitor<>() {
            @Override
            public Void visit(SqlCall call) {
                if (SqlTrees.isQuery(call)) {
                    found[0] = true;
                    return null;
                }
                return super.visit(call);
            }
        };
        for (SqlNode part : new SqlNode[] {select.getSelectList(), select.getWhere()}) {
            if (part != null) {
                part.accept(v);
            }
        }
        return found[0];
    }
}
