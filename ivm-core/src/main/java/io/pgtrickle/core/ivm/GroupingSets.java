package io.pgtrickle.core.ivm;

import io.pgtrickle.core.query.QueryParser;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlFunction;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.util.SqlShuttle;

/**
 * GROUP BY with GROUPING SETS, ROLLUP or CUBE rewritten as the UNION ALL of one plain GROUP BY
 * per grouping set, which the compiler already maintains exactly (each branch a grouped SELECT).
 * PostgreSQL computes every set's groups over the same input; in the rows of one set, a grouping
 * expression outside that set reads as NULL (outside aggregates, whose arguments see the input
 * rows) and {@code GROUPING(…)} is a constant, so each branch is the query with those two
 * substituted. The empty set {@code ()} is a global aggregate; duplicated sets stay duplicated.
 */
final class GroupingSets {
    /** Each set is a branch read on every refresh that touches its tables: past this many, FULL is the better deal. */
    static final int MAX_SETS = 64;

    /** What the rewrite needs to know about the query that only the compiler (and PostgreSQL) can say. */
    interface Scope {
        /** A GROUP BY element as the expression it stands for (an ordinal or an output name resolved). */
        SqlNode resolve(SqlNode element) throws NotDifferentiable;

        /** Equal for two expressions exactly when PostgreSQL takes them for the same grouping expression. */
        String identity(SqlNode expression);

        /** Whether the function of this (lower-case) name is an aggregate. */
        boolean isAggregate(String function);

        /** PostgreSQL's type of each expression over the query's FROM, as SQL type text. */
        List<String> types(List<SqlNode> expressions) throws NotDifferentiable, SQLException;
    }

    private GroupingSets() {
    }

    /** Whether the GROUP BY of {@code select} holds GROUPING SETS, ROLLUP, CUBE, {@code ()} or GROUP BY DISTINCT. */
    static boolean present(SqlSelect select) {
        SqlNodeList group = select.getGroup();
        return group != null && group.stream().anyMatch(g -> g instanceof SqlNodeList || g instanceof SqlCall call
                && (call.getKind() == SqlKind.ROLLUP || call.getKind() == SqlKind.CUBE
                || call.getKind() == SqlKind.GROUPING_SETS || call.getKind() == SqlKind.GROUP_BY_DISTINCT));
    }

    /**
     * The grouping sets of a GROUP BY clause, each as its elements (unresolved), in PostgreSQL's
     * order and with its duplicates (removed under GROUP BY DISTINCT, as there).
     */
    static List<List<SqlNode>> sets(SqlNodeList group, Scope scope) throws NotDifferentiable {
        List<SqlNode> elements = group.getList();
        boolean distinct = false;
        if (elements.size() == 1 && elements.get(0).getKind() == SqlKind.GROUP_BY_DISTINCT) {
            distinct = true;
            elements = ((SqlCall) elements.get(0)).getOperandList();
        }
        // The clause is the cross product of its elements' sets, each concatenating one set of every element.
        List<List<SqlNode>> out = List.of(List.of());
        for (SqlNode element : elements) {
            List<List<SqlNode>> next = new ArrayList<>();
            for (List<SqlNode> prefix : out) {
                for (List<SqlNode> set : setsOf(element, true)) {
                    List<SqlNode> joined = new ArrayList<>(prefix);
                    joined.addAll(set);
                    next.add(joined);
                }
            }
            out = next;
            if (out.size() > MAX_SETS) {
                throw new NotDifferentiable("GROUPING SETS / ROLLUP / CUBE expanding to more than " + MAX_SETS
                        + " grouping sets have no delta rule (each set is maintained as its own GROUP BY)");
            }
        }
        if (distinct) {
            Map<Set<String>, List<SqlNode>> unique = new LinkedHashMap<>();
            for (List<SqlNode> set : out) {
                Set<String> ids = new LinkedHashSet<>();
                for (SqlNode n : set) {
                    ids.add(scope.identity(scope.resolve(n)));
                }
                unique.putIfAbsent(ids, set);
            }
            out = List.copyOf(unique.values());
        }
        return out;
    }

    /** The sets one element stands for; {@code top}: directly in GROUP BY or GROUPING SETS, where ROLLUP and CUBE may be. */
    private static List<List<SqlNode>> setsOf(SqlNode element, boolean top) throws NotDifferentiable {
        if (element instanceof SqlNodeList list) {
            if (!list.isEmpty()) {
                throw new NotDifferentiable("a grouping element " + SqlTrees.sql(list) + " the IVM compiler does not understand");
            }
            return List.of(List.of()); // ()
        }
        if (element instanceof SqlCall call && call.getKind() == SqlKind.ROW) {
            return List.of(List.copyOf(call.getOperandList())); // (a, b): one unit, as PostgreSQL flattens it
        }
        if (!(element instanceof SqlCall call) || call.getKind() != SqlKind.ROLLUP && call.getKind() != SqlKind.CUBE
                && call.getKind() != SqlKind.GROUPING_SETS) {
            return List.of(List.of(element));
        }
        if (!top) {
            throw new NotDifferentiable(call.getKind() + " nested inside ROLLUP or CUBE is not SQL PostgreSQL accepts");
        }
        List<List<SqlNode>> units = new ArrayList<>();
        for (SqlNode operand : call.getOperandList()) {
            if (call.getKind() == SqlKind.GROUPING_SETS) {
                units.addAll(setsOf(operand, true));
            } else {
                List<List<SqlNode>> one = setsOf(operand, false);
                units.add(one.get(0));
            }
        }
        if (call.getKind() == SqlKind.GROUPING_SETS) {
            return units;
        }
        List<List<SqlNode>> out = new ArrayList<>();
        int n = units.size();
        if (call.getKind() == SqlKind.ROLLUP) {
            for (int k = n; k >= 0; k--) {
                List<SqlNode> set = new ArrayList<>();
                units.subList(0, k).forEach(set::addAll);
                out.add(set);
            }
        } else {
            if (n > 12) {
                throw new NotDifferentiable("CUBE of " + n + " elements (" + (1 << n) + " grouping sets) has no delta rule");
            }
            // Every subset, the full set first, as PostgreSQL lists them (the order does not matter to a multiset).
            for (int mask = (1 << n) - 1; mask >= 0; mask--) {
                List<SqlNode> set = new ArrayList<>();
                for (int i = 0; i < n; i++) {
                    if ((mask & 1 << (n - 1 - i)) != 0) {
                        set.addAll(units.get(i));
                    }
                }
                out.add(set);
            }
        }
        return out;
    }

    /**
     * The query as the UNION ALL (UNION under SELECT DISTINCT, which removes duplicates across all
     * sets) of one GROUP BY per grouping set; a single set stays one SELECT.
     *
     * @throws NotDifferentiable naming the construct when the rewrite would not be exact
     */
    static SqlNode rewrite(SqlSelect select, Scope scope) throws NotDifferentiable, SQLException {
        if (!QueryParser.distinctOn(select).isEmpty()) {
            throw new NotDifferentiable("DISTINCT ON with GROUPING SETS / ROLLUP / CUBE has no delta rule yet");
        }
        for (SqlNode item : select.getSelectList()) {
            if (item instanceof SqlIdentifier id && id.isStar()) {
                throw new NotDifferentiable("SELECT * with GROUPING SETS / ROLLUP / CUBE has no delta rule yet");
            }
        }
        if (SqlTrees.containsQuery(select.getSelectList()) || SqlTrees.containsQuery(select.getHaving())) {
            throw new NotDifferentiable("a subquery in the select list or HAVING of GROUPING SETS / ROLLUP / CUBE has"
                    + " no delta rule yet (its references to grouping columns would have to read NULL)");
        }
        List<List<SqlNode>> sets = sets(select.getGroup(), scope);
        // Every grouping expression, by identity: the set of each branch picks which of them read NULL.
        Map<String, SqlNode> keys = new LinkedHashMap<>();
        List<List<String>> setIds = new ArrayList<>();
        for (List<SqlNode> set : sets) {
            List<String> ids = new ArrayList<>();
            for (SqlNode element : set) {
                SqlNode key = scope.resolve(element);
                String id = scope.identity(key);
                keys.putIfAbsent(id, key);
                if (!ids.contains(id)) {
                    ids.add(id);
                }
            }
            setIds.add(ids);
        }
        List<String> keyIds = List.copyOf(keys.keySet());
        List<String> typeList = keyIds.isEmpty() ? List.of() : scope.types(List.copyOf(keys.values()));
        Map<String, String> types = new LinkedHashMap<>();
        for (int i = 0; i < keyIds.size(); i++) {
            types.put(keyIds.get(i), typeList.get(i));
        }
        boolean aggregates = hasAggregate(select.getSelectList(), scope) || select.getHaving() != null;
        SqlNode out = null;
        for (List<String> ids : setIds) {
            SqlSelect branch = copy(select);
            Substitution s = new Substitution(scope, types, Set.copyOf(ids));
            List<SqlNode> items = new ArrayList<>();
            for (SqlNode item : branch.getSelectList()) {
                if (item.getKind() == SqlKind.AS) {
                    List<SqlNode> operands = new ArrayList<>(((SqlCall) item).getOperandList());
                    operands.set(0, s.apply(operands.get(0)));
                    items.add(SqlStdOperatorTable.AS.createCall(SqlParserPos.ZERO, operands));
                } else {
                    items.add(s.apply(item));
                }
            }
            branch.setSelectList(new SqlNodeList(items, SqlParserPos.ZERO));
            branch.setHaving(branch.getHaving() == null ? null : s.apply(branch.getHaving()));
            s.done();
            if (ids.isEmpty()) {
                branch.setGroupBy(null);
                if (!aggregates) {
                    // Without aggregates a SELECT is grouped only by HAVING: () is one row, over no rows too.
                    branch.setHaving(SqlLiteral.createBoolean(true, SqlParserPos.ZERO));
                }
            } else {
                List<SqlNode> group = new ArrayList<>();
                for (String id : ids) {
                    group.add(SqlTrees.parseExpression(SqlTrees.sql(keys.get(id))));
                }
                branch.setGroupBy(new SqlNodeList(group, SqlParserPos.ZERO));
            }
            boolean distinct = select.isDistinct();
            if (distinct) {
                branch.setOperand(0, new SqlNodeList(SqlParserPos.ZERO)); // DISTINCT moves to the UNION
            }
            out = out == null ? branch : (distinct ? SqlStdOperatorTable.UNION : SqlStdOperatorTable.UNION_ALL)
                    .createCall(SqlParserPos.ZERO, out, branch);
        }
        return out;
    }

    /** A fresh tree of the select: each branch is compiled (and rewritten in place) on its own. */
    private static SqlSelect copy(SqlSelect select) {
        try {
            SqlSelect copy = (SqlSelect) new QueryParser().parse(QueryParser.toPostgres(select));
            copy.setOrderBy(null);
            return copy;
        } catch (SqlParseException e) {
            throw new IllegalStateException("cannot re-read a query the compiler wrote", e);
        }
    }

    private static boolean hasAggregate(SqlNode node, Scope scope) {
        boolean[] found = {false};
        node.accept(new org.apache.calcite.sql.util.SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                if (isAggregate(call, scope)) {
                    found[0] = true;
                    return null;
                }
                return super.visit(call);
            }
        });
        return found[0];
    }

    /** An aggregate call (with its FILTER or ORDER BY): its arguments are the input rows' values, never NULLed. */
    private static boolean isAggregate(SqlCall call, Scope scope) {
        if (call.getKind() == SqlKind.FILTER || call.getKind() == SqlKind.WITHIN_GROUP
                || call.getKind() == SqlKind.WITHIN_DISTINCT) {
            return call.operand(0) instanceof SqlCall inner && isAggregate(inner, scope);
        }
        if (call.getKind() == SqlKind.OVER) {
            return false;
        }
        return call.getOperator().isAggregator()
                || call.getOperator() instanceof SqlFunction f && scope.isAggregate(f.getName().toLowerCase(Locale.ROOT));
    }

    private static boolean isGrouping(SqlCall call) {
        return call.getKind() == SqlKind.GROUPING || call.getOperator() instanceof SqlFunction f
                && f.getName().equalsIgnoreCase("grouping");
    }

    /** One set's branch: grouping expressions outside the set become typed NULLs, GROUPING(…) its value there. */
    private static final class Substitution extends SqlShuttle {
        private final Scope scope;
        private final Map<String, String> types;
        private final Set<String> inSet;
        private NotDifferentiable problem;

        Substitution(Scope scope, Map<String, String> types, Set<String> inSet) {
            this.scope = scope;
            this.types = types;
            this.inSet = inSet;
        }

        SqlNode apply(SqlNode node) {
            return node.accept(this);
        }

        void done() throws NotDifferentiable {
            if (problem != null) {
                throw problem;
            }
        }

        private SqlNode replaced(SqlNode node) {
            if (node instanceof SqlLiteral literal && literal.getValue() == null) {
                return null;
            }
            String id = scope.identity(node);
            if (!types.containsKey(id)) {
                return null;
            }
            return inSet.contains(id) ? node : SqlTrees.parseExpression("CAST(NULL AS " + types.get(id) + ")");
        }

        @Override
        public SqlNode visit(SqlCall call) {
            if (isGrouping(call)) {
                int value = 0;
                for (SqlNode arg : call.getOperandList()) {
                    String id = scope.identity(arg);
                    if (!types.containsKey(id) && problem == null) {
                        problem = new NotDifferentiable("GROUPING(" + SqlTrees.sql(arg) + ") of an expression the IVM"
                                + " compiler does not find among the grouping expressions has no delta rule");
                    }
                    value = value << 1 | (inSet.contains(id) ? 0 : 1);
                }
                return SqlLiteral.createExactNumeric(Integer.toString(value), SqlParserPos.ZERO);
            }
            SqlNode r = replaced(call);
            if (r != null) {
                return r;
            }
            if (isAggregate(call, scope)) {
                return call;
            }
            return super.visit(call);
        }

        @Override
        public SqlNode visit(SqlIdentifier id) {
            SqlNode r = id.isStar() ? null : replaced(id);
            return r != null ? r : id;
        }

        @Override
        public SqlNode visit(SqlLiteral literal) {
            SqlNode r = replaced(literal);
            return r != null ? r : literal;
        }
    }
}
