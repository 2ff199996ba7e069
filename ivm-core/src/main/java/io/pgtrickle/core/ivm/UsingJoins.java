package io.pgtrickle.core.ivm;

import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.calcite.sql.JoinConditionType;
import org.apache.calcite.sql.JoinType;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.util.SqlShuttle;

/**
 * Rewrites {@code NATURAL JOIN} and {@code JOIN … USING} of one SELECT into joins ON equality, with
 * PostgreSQL's merged columns made explicit, so the join rules apply unchanged.
 *
 * <p>A merged column is the left side's column for inner and left joins, the right side's for
 * right joins and {@code coalesce(left, right)} for full joins; an unqualified reference means
 * it, {@code *} lists the merged columns first, then the rest of the left side, then the rest of
 * the right side (each without the joined columns), and a qualified {@code a.k} still means a's
 * column. NATURAL joins on the columns both sides have (none: a cross join).
 */
final class UsingJoins {
    private static final SqlParserPos POS = SqlParserPos.ZERO;

    /** The output names of a FROM subquery, as PostgreSQL gives them. */
    interface Names {
        List<String> of(SqlNode query) throws SQLException;
    }

    /** A column a FROM item offers: its name, the expression for it, and whether a USING merged it. */
    private record Col(String name, SqlNode expr, boolean merged) {
    }

    private UsingJoins() {
    }

    /** Rewrites {@code select} in place; does nothing when its FROM has no NATURAL or USING join. */
    static void rewrite(SqlSelect select, Map<List<String>, BaseTable> tables, Names names)
            throws NotDifferentiable, SQLException {
        if (!hasUsing(select.getFrom())) {
            return;
        }
        List<Col> columns = columns(select.getFrom(), tables, names);
        Map<String, SqlNode> merged = new LinkedHashMap<>();
        columns.stream().filter(Col::merged).forEach(col -> merged.putIfAbsent(col.name(), col.expr()));
        if (!io.pgtrickle.core.query.QueryParser.distinctOn(select).isEmpty()) {
            throw new NotDifferentiable("DISTINCT ON over a NATURAL JOIN / JOIN … USING has no delta rule yet");
        }
        List<SqlNode> items = new ArrayList<>();
        for (SqlNode item : select.getSelectList()) {
            if (item instanceof SqlIdentifier id && id.isStar() && id.names.size() == 1) {
                columns.forEach(col -> items.add(as(copy(col.expr()), col.name())));
            } else if (item instanceof SqlIdentifier id && id.isSimple() && merged.containsKey(id.getSimple())) {
                items.add(as(copy(merged.get(id.getSimple())), id.getSimple()));
            } else {
                items.add(replace(item, merged));
            }
        }
        select.setSelectList(new SqlNodeList(items, select.getSelectList().getParserPosition()));
        select.setWhere(replace(select.getWhere(), merged));
        select.setHaving(replace(select.getHaving(), merged));
        if (select.getGroup() != null) {
            select.setGroupBy((SqlNodeList) replace(select.getGroup(), merged));
        }
    }

    private static boolean hasUsing(SqlNode from) {
        return from instanceof SqlJoin join && (join.isNatural() || join.getConditionType() == JoinConditionType.USING
                || hasUsing(join.getLeft()) || hasUsing(join.getRight()));
    }

    /** The columns {@code from} offers, in PostgreSQL's order; rewrites its USING and NATURAL joins on the way. */
    private static List<Col> columns(SqlNode from, Map<List<String>, BaseTable> tables, Names names)
            throws NotDifferentiable, SQLException {
        if (from instanceof SqlJoin join) {
            List<Col> left = columns(join.getLeft(), tables, names);
            List<Col> right = columns(join.getRight(), tables, names);
            Map<String, SqlNode> visible = new LinkedHashMap<>();
            for (Col col : left) {
                if (col.merged()) {
                    visible.putIfAbsent(col.name(), col.expr());
                }
            }
            for (Col col : right) {
                if (col.merged()) {
                    visible.putIfAbsent(col.name(), col.expr());
                }
            }
            boolean natural = join.isNatural();
            if (!natural && join.getConditionType() != JoinConditionType.USING) {
                if (join.getCondition() != null && join.getConditionType() == JoinConditionType.ON) {
                    join.setOperand(5, replace(join.getCondition(), visible));
                }
                List<Col> all = new ArrayList<>(left);
                all.addAll(right);
                return all;
            }
            List<String> using = new ArrayList<>();
            if (natural) {
                left.stream().map(Col::name).distinct()
                        .filter(n -> right.stream().anyMatch(r -> r.name().equals(n))).forEach(using::add);
            } else {
                for (SqlNode n : (SqlNodeList) join.getCondition()) {
                    using.add(((SqlIdentifier) n).getSimple());
                }
            }
            List<Col> out = new ArrayList<>();
            List<Col> usedLeft = new ArrayList<>();
            List<Col> usedRight = new ArrayList<>();
            SqlNode condition = null;
            for (String name : using) {
                Col l = only(left, name, "left");
                Col r = only(right, name, "right");
                usedLeft.add(l);
                usedRight.add(r);
                SqlNode equal = SqlStdOperatorTable.EQUALS.createCall(POS, copy(l.expr()), copy(r.expr()));
                condition = condition == null ? equal : SqlStdOperatorTable.AND.createCall(POS, condition, equal);
                SqlNode expr = switch (join.getJoinType()) {
                    case RIGHT -> copy(r.expr());
                    case FULL -> SqlStdOperatorTable.COALESCE.createCall(POS, copy(l.expr()), copy(r.expr()));
                    default -> copy(l.expr());
                };
                out.add(new Col(name, expr, true));
            }
            left.stream().filter(c -> !usedLeft.contains(c)).forEach(out::add);
            right.stream().filter(c -> !usedRight.contains(c)).forEach(out::add);
            join.setOperand(1, SqlLiteral.createBoolean(false, POS));
            if (join.getJoinType() == JoinType.COMMA) {
                join.setOperand(2, JoinType.INNER.symbol(POS));
            }
            join.setOperand(4, JoinConditionType.ON.symbol(POS));
            join.setOperand(5, condition == null ? SqlLiteral.createBoolean(true, POS) : condition);
            return out;
        }
        SqlNode target = from.getKind() == SqlKind.AS ? ((SqlCall) from).operand(0) : from;
        List<SqlNode> asOperands = from.getKind() == SqlKind.AS ? ((SqlCall) from).getOperandList() : List.of();
        if (target instanceof SqlIdentifier id && tables.containsKey(id.names)) {
            String alias = asOperands.isEmpty() ? id.names.get(id.names.size() - 1) : ((SqlIdentifier) asOperands.get(1)).getSimple();
            List<String> cols = asOperands.size() > 2 ? aliases(asOperands) : tables.get(id.names).columns();
            return cols.stream().map(c -> new Col(c, new SqlIdentifier(List.of(alias, c), POS), false)).toList();
        }
        if (SqlTrees.isQuery(target) && asOperands.size() >= 2) {
            String alias = ((SqlIdentifier) asOperands.get(1)).getSimple();
            List<String> cols = asOperands.size() > 2 ? aliases(asOperands) : names.of(target);
            return cols.stream().map(c -> new Col(c, new SqlIdentifier(List.of(alias, c), POS), false)).toList();
        }
        throw new NotDifferentiable(target.getKind() + " beside a NATURAL JOIN / JOIN … USING has no delta rule yet");
    }

    private static List<String> aliases(List<SqlNode> asOperands) {
        return asOperands.subList(2, asOperands.size()).stream().map(n -> ((SqlIdentifier) n).getSimple()).toList();
    }

    private static Col only(List<Col> side, String name, String which) throws NotDifferentiable {
        List<Col> found = side.stream().filter(c -> c.name().equals(name)).toList();
        if (found.size() != 1) {
            // PostgreSQL itself rejects both cases; a query that reached here was accepted, so say what we saw.
            throw new NotDifferentiable("the USING column " + name + " is " + (found.isEmpty() ? "missing from" : "ambiguous in")
                    + " the " + which + " side of its join");
        }
        return found.get(0);
    }

    private static SqlNode as(SqlNode expr, String name) {
        return SqlStdOperatorTable.AS.createCall(POS, expr, new SqlIdentifier(name, POS));
    }

    private static SqlNode copy(SqlNode node) {
        return node.clone(POS);
    }

    /** {@code node} with unqualified references to merged columns replaced; a subquery is refused. */
    private static SqlNode replace(SqlNode node, Map<String, SqlNode> merged) throws NotDifferentiable {
        if (node == null || merged.isEmpty()) {
            return node;
        }
        boolean[] subquery = new boolean[1];
        SqlNode out = node.accept(new SqlShuttle() {
            @Override
            public SqlNode visit(SqlIdentifier id) {
                return id.isSimple() && merged.containsKey(id.getSimple()) ? copy(merged.get(id.getSimple())) : id;
            }

            @Override
            public SqlNode visit(SqlCall call) {
                if (SqlTrees.isQuery(call)) {
                    subquery[0] = true;
                    return call;
                }
                if (call.getKind() == SqlKind.AS) {
                    // Keep the alias itself: it is a name, not a reference.
                    SqlBasicCall as = (SqlBasicCall) call;
                    List<SqlNode> operands = new ArrayList<>(as.getOperandList());
                    operands.set(0, operands.get(0).accept(this));
                    return SqlStdOperatorTable.AS.createCall(call.getParserPosition(), operands);
                }
                return super.visit(call);
            }
        });
        if (subquery[0]) {
            throw new NotDifferentiable("a subquery expression beside a NATURAL JOIN / JOIN … USING has no delta rule yet");
        }
        return out;
    }
}
