package io.pgtrickle.core.ivm;

import io.pgtrickle.core.query.Column;
import io.pgtrickle.core.query.QueryParser;
import io.pgtrickle.core.query.RelationColumns;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.calcite.sql.JoinType;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOrderBy;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.SqlWith;
import org.apache.calcite.sql.SqlWithItem;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * Takes a {@code WITH RECURSIVE} query apart into what {@link RecursivePlan} maintains: a
 * non-recursive term (any differentiable query), a linear recursive term joining the CTE once with
 * one table, and an outer query that returns the CTE's rows (its columns in any order). Everything
 * else is refused here with the construct named, so the stream table refreshes FULL instead.
 */
final class RecursiveCte {
    private static final String R = "__pgt_rec_r";
    private static final String E = "__pgt_rec_e";

    private RecursiveCte() {
    }

    /** Whether {@code node} is a WITH whose CTE reads itself (WITH RECURSIVE alone may name plain CTEs). */
    static boolean present(SqlNode node) {
        if (!(node instanceof SqlWith with)) {
            return false;
        }
        for (SqlNode n : with.withList) {
            SqlWithItem item = (SqlWithItem) n;
            if (item.recursive != null && item.recursive.booleanValue() && readsItself(item)) {
                return true;
            }
        }
        return false;
    }

    private static boolean readsItself(SqlWithItem item) {
        String name = item.name.getSimple();
        return SqlTrees.tables(item.query).stream().anyMatch(id -> id.isSimple() && id.getSimple().equals(name));
    }

    /** Compiles the recursive query {@code with} (see {@link #present}); {@code query} is its text. */
    static RecursivePlan compile(IvmCompiler compiler, Connection c, SqlWith with, String query,
                                 List<String> names) throws NotDifferentiable, SQLException {
        if (with.withList.size() != 1) {
            throw new NotDifferentiable("WITH RECURSIVE with more than one CTE has no delta rule yet (make each CTE"
                    + " a stream table of its own and join those)");
        }
        SqlWithItem item = (SqlWithItem) with.withList.get(0);
        String cte = item.name.getSimple();
        if (!(item.query instanceof SqlBasicCall union)
                || (union.getKind() != SqlKind.UNION) || union.operandCount() != 2) {
            throw new NotDifferentiable("a recursive CTE that is not <non-recursive term> UNION [ALL] <recursive term>"
                    + " has no delta rule yet");
        }
        boolean set = !((org.apache.calcite.sql.SqlSetOperator) union.getOperator()).isAll();
        SqlNode base = union.operand(0);
        if (SqlTrees.tables(base).stream().anyMatch(id -> id.isSimple() && id.getSimple().equals(cte))) {
            throw new NotDifferentiable("a recursive CTE whose recursive reference is not in its last UNION branch has"
                    + " no delta rule yet");
        }
        if (!(union.operand(1) instanceof SqlSelect step)) {
            throw new NotDifferentiable("a recursive term that is not a single SELECT has no delta rule yet");
        }
        Step parts = step(c, step, cte);

        List<String> cteColumns = item.columnList != null && !item.columnList.isEmpty()
                ? item.columnList.getList().stream().map(n -> ((SqlIdentifier) n).getSimple()).toList()
                : IvmCompiler.outputNames(c, base);
        List<Integer> storedToCte = outer(with.body, cte, cteColumns);
        if (storedToCte.size() != names.size()) {
            throw new NotDifferentiable("the select list does not match the stream table's columns");
        }
        List<String> storedTypes = types(c, query);
        String[] cteTypes = new String[cteColumns.size()];
        for (int j = 0; j < storedToCte.size(); j++) {
            cteTypes[storedToCte.get(j)] = storedTypes.get(j);
        }

        SqlNode inlinedBase = ViewInliner.inline(c, base);
        IvmPlan basePlan = compiler.compilePart(c, inlinedBase, IvmCompiler.outputNames(c, inlinedBase));
        List<String> indexed = new ArrayList<>();
        for (String column : parts.cteJoinColumns()) {
            if (cteColumns.contains(column)) {
                indexed.add(names.get(storedToCte.indexOf(cteColumns.indexOf(column))));
            }
        }
        return new RecursivePlan(query, basePlan, parts.table(), parts.from(), parts.items(), parts.where(), set,
                cteColumns, List.of(cteTypes), storedToCte, names, parts.tableColumnItems(), List.copyOf(indexed),
                parts.tableJoinColumns().stream().anyMatch(parts.table().indexLeads()::contains));
    }

    /** The recursive term as SQL pieces around two placeholders: the CTE's and the table's relation. */
    record Step(BaseTable table, String from, List<String> items, String where, List<Integer> tableColumnItems,
                List<String> cteJoinColumns, List<String> tableJoinColumns) {
        static final String CTE_PLACEHOLDER = R;
        static final String TABLE_PLACEHOLDER = E;
    }

    private static Step step(Connection c, SqlSelect step, String cte) throws NotDifferentiable, SQLException {
        IvmCompiler.checkExpressions(step);
        if (step.isDistinct() || step.getGroup() != null || step.getHaving() != null || step.getWindowList() != null
                && !step.getWindowList().isEmpty() || IvmCompiler.hasAggregate(c, step.getSelectList())) {
            throw new NotDifferentiable("a recursive term with DISTINCT, GROUP BY or aggregates has no delta rule yet");
        }
        if (SqlTrees.containsQuery(step.getSelectList()) || SqlTrees.containsQuery(step.getWhere())) {
            throw new NotDifferentiable("a subquery in the recursive term has no delta rule yet");
        }
        if (!(step.getFrom() instanceof SqlJoin join) || !(join.getJoinType() == JoinType.INNER
                || join.getJoinType() == JoinType.COMMA) || join.getLeft() instanceof SqlJoin
                || join.getRight() instanceof SqlJoin) {
            throw new NotDifferentiable("a recursive term that does not join the CTE with exactly one table (inner"
                    + " join) has no delta rule yet");
        }
        SqlIdentifier left = reference(join.getLeft());
        SqlIdentifier right = reference(join.getRight());
        boolean leftIsCte = left != null && left.isSimple() && left.getSimple().equals(cte);
        boolean rightIsCte = right != null && right.isSimple() && right.getSimple().equals(cte);
        SqlIdentifier table = leftIsCte ? right : left;
        if (leftIsCte == rightIsCte || table == null) {
            throw new NotDifferentiable("a recursive term that does not join the CTE with exactly one table (inner"
                    + " join) has no delta rule yet");
        }
        SqlSelect probe = new SqlSelect(SqlParserPos.ZERO, null, SqlNodeList.of(SqlIdentifier.star(SqlParserPos.ZERO)),
                table.clone(SqlParserPos.ZERO), null, null, null, null, null, null, null, null);
        Map<List<String>, BaseTable> tables = IvmCompiler.resolve(c, probe);
        BaseTable edge = tables.get(table.names);
        Determinism.requireFunctionOfData(step, Map.of(table.names, edge));

        String tableAlias = alias(leftIsCte ? join.getRight() : join.getLeft());
        String cteAlias = alias(leftIsCte ? join.getLeft() : join.getRight());
        List<String> items = new ArrayList<>();
        List<Integer> tableColumnItems = new ArrayList<>();
        for (SqlNode n : step.getSelectList()) {
            if (n instanceof SqlIdentifier id && id.isStar()) {
                throw new NotDifferentiable("* in the recursive term has no delta rule yet (name its columns)");
            }
            SqlNode e = n.getKind() == SqlKind.AS ? ((SqlCall) n).operand(0) : n;
            if (e instanceof SqlIdentifier id && id.names.size() == 2 && id.names.get(0).equals(tableAlias)) {
                tableColumnItems.add(items.size());
            }
            items.add(SqlTrees.sql(e));
        }
        List<String> cteJoinColumns = new ArrayList<>();
        List<String> tableJoinColumns = new ArrayList<>();
        List<SqlNode> conjuncts = new ArrayList<>();
        conjuncts(join.getCondition(), conjuncts);
        conjuncts(step.getWhere(), conjuncts);
        for (SqlNode conjunct : conjuncts) {
            if (conjunct.getKind() == SqlKind.EQUALS) {
                for (int side = 0; side < 2; side++) {
                    if (((SqlCall) conjunct).operand(side) instanceof SqlIdentifier a && a.names.size() == 2
                            && a.names.get(0).equals(cteAlias) && ((SqlCall) conjunct).operand(1 - side) instanceof SqlIdentifier b
                            && b.names.size() == 2 && b.names.get(0).equals(tableAlias) && !cteJoinColumns.contains(a.names.get(1))) {
                        cteJoinColumns.add(a.names.get(1));
                        tableJoinColumns.add(b.names.get(1));
                    }
                }
            }
        }
        String where = step.getWhere() == null ? null : SqlTrees.sql(step.getWhere());
        SqlNode from = SqlTrees.replaceTables(join, id -> id == left || id == right
                ? new SqlIdentifier(id == table ? E : R, SqlParserPos.ZERO) : null);
        SqlSelect wrapper = new SqlSelect(SqlParserPos.ZERO, null, SqlNodeList.of(SqlIdentifier.star(SqlParserPos.ZERO)),
                from, null, null, null, null, null, null, null, null);
        String text = QueryParser.toPostgres(wrapper);
        if (!text.startsWith("SELECT * FROM ")) {
            throw new IllegalStateException("unexpected unparse: " + text);
        }
        return new Step(edge, text.substring("SELECT * FROM ".length()), List.copyOf(items), where,
                List.copyOf(tableColumnItems), List.copyOf(cteJoinColumns), List.copyOf(tableJoinColumns));
    }

    private static void conjuncts(SqlNode condition, List<SqlNode> out) {
        if (condition == null) {
            return;
        }
        if (condition.getKind() == SqlKind.AND) {
            for (SqlNode operand : ((SqlCall) condition).getOperandList()) {
                conjuncts(operand, out);
            }
        } else {
            out.add(condition);
        }
    }

    /** The name a FROM item is referred to by: its alias, or the table's own name. */
    private static String alias(SqlNode from) {
        if (from instanceof SqlIdentifier id) {
            return id.names.get(id.names.size() - 1);
        }
        return ((SqlIdentifier) ((SqlCall) from).operand(1)).getSimple();
    }

    private static SqlIdentifier reference(SqlNode from) {
        if (from instanceof SqlIdentifier id) {
            return id;
        }
        if (from.getKind() == SqlKind.AS && ((SqlCall) from).operandCount() == 2
                && ((SqlCall) from).operand(0) instanceof SqlIdentifier id) {
            return id;
        }
        return null;
    }

    /**
     * For each output column of the outer query, the CTE column it returns: the outer query must
     * be {@code SELECT <every CTE column once, in any order> FROM cte}, since the stream table then
     * holds the CTE's rows, which the delta rules read back.
     */
    private static List<Integer> outer(SqlNode body, String cte, List<String> cteColumns) throws NotDifferentiable {
        if (body instanceof SqlOrderBy order) {
            if (order.fetch != null || order.offset != null) {
                throw new NotDifferentiable("ORDER BY … LIMIT over a recursive CTE has no delta rule yet");
            }
            body = order.query;
        }
        String refuse = "a query over a recursive CTE other than SELECT <all its columns> FROM it has no delta rule"
                + " yet (make the CTE its own stream table, then filter, join or aggregate that in another)";
        if (!(body instanceof SqlSelect select) || select.getWhere() != null || select.getGroup() != null
                || select.getHaving() != null || select.isDistinct() || !(select.getFrom() != null
                && cte.equals(simpleName(reference(select.getFrom()))))) {
            throw new NotDifferentiable(refuse);
        }
        String alias = select.getFrom() instanceof SqlIdentifier ? cte
                : ((SqlIdentifier) ((SqlCall) select.getFrom()).operand(1)).getSimple();
        List<Integer> out = new ArrayList<>();
        for (SqlNode n : select.getSelectList()) {
            SqlNode e = n.getKind() == SqlKind.AS ? ((SqlCall) n).operand(0) : n;
            if (e instanceof SqlIdentifier id && id.isStar()) {
                for (int i = 0; i < cteColumns.size(); i++) {
                    out.add(i);
                }
                continue;
            }
            if (!(e instanceof SqlIdentifier id) || id.names.size() > 2
                    || (id.names.size() == 2 && !id.names.get(0).equals(alias))
                    || !cteColumns.contains(id.names.get(id.names.size() - 1))) {
                throw new NotDifferentiable(refuse);
            }
            out.add(cteColumns.indexOf(id.names.get(id.names.size() - 1)));
        }
        if (out.size() != cteColumns.size() || out.stream().distinct().count() != out.size()) {
            throw new NotDifferentiable(refuse);
        }
        return List.copyOf(out);
    }

    private static String simpleName(SqlIdentifier id) {
        return id != null && id.isSimple() ? id.getSimple() : null;
    }

    /** PostgreSQL's types of the query's outputs, with their modifiers ({@code numeric(10,2)}). */
    private static List<String> types(Connection c, String query) throws SQLException {
        Savepoint sp = c.getAutoCommit() ? null : c.setSavepoint();
        try {
            Jdbc.executeRaw(c, "CREATE TEMP VIEW __pgt_rec_types AS SELECT * FROM (\n" + query + "\n) AS __pgt_q");
            long relid = Jdbc.queryValue(c, Long.class, "SELECT 'pg_temp.__pgt_rec_types'::regclass::oid::bigint");
            List<String> types = RelationColumns.of(c, relid).stream().map(Column::type).toList();
            Jdbc.executeRaw(c, "DROP VIEW pg_temp.__pgt_rec_types");
            if (sp != null) {
                c.releaseSavepoint(sp);
            }
            return types;
        } catch (SQLException | RuntimeException e) {
            if (sp != null) {
                c.rollback(sp);
            }
            throw e;
        }
    }

    /** {@code name} quoted, for the placeholders' replacement. */
    static String placeholder(String name) {
        return Identifiers.quote(name);
    }
}
