package io.pgtrickle.core.ivm;

import io.pgtrickle.core.capture.RowDecoder;
import io.pgtrickle.core.query.QueryParser;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import org.apache.calcite.sql.JoinConditionType;
import org.apache.calcite.sql.JoinType;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlFunction;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOrderBy;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.SqlSetOperator;
import org.apache.calcite.sql.SqlWindow;
import org.apache.calcite.sql.SqlWith;
import org.apache.calcite.sql.SqlWithItem;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.util.SqlBasicVisitor;

/**
 * Compiles a defining query into an {@link IvmPlan}, or says which construct has no delta rule.
 * Tables are resolved by PostgreSQL (search path included); expressions are kept as the user
 * wrote them and unparsed for PostgreSQL.
 */
public final class IvmCompiler {
    static final Set<String> VOLATILE = Set.of("now", "random", "clock_timestamp", "current_timestamp",
            "current_date", "current_time", "localtimestamp", "localtime", "statement_timestamp",
            "transaction_timestamp", "timeofday", "nextval", "setval", "gen_random_uuid", "uuid_generate_v4",
            "txid_current", "pg_current_xact_id", "random_normal");

    private final QueryParser parser = new QueryParser();

    /**
     * @param names the stream table's column names (PostgreSQL's names for the query's outputs)
     * @throws NotDifferentiable naming the construct that has no delta rule
     */
    public IvmPlan compile(Connection c, String query, List<String> names) throws NotDifferentiable, SQLException {
        SqlNode node;
        try {
            node = parser.parse(query);
        } catch (SqlParseException e) {
            String first = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
            throw new NotDifferentiable("the IVM compiler cannot parse the query (" + first + ")");
        }
        if (RecursiveCte.present(node)) {
            return RecursiveCte.compile(this, c, (SqlWith) node, query, names);
        }
        node = inlineCommonTableExpressions(node);
        node = ViewInliner.inline(c, node);
        Map<List<String>, BaseTable> tables = resolveTables(c, node);
        Determinism.requireFunctionOfData(node, tables);
        IvmPlan plan = node instanceof SqlOrderBy order && (order.fetch != null || order.offset != null)
                ? topK(c, order, names, tables) : compileQuery(c, node, names, tables);
        if (plan.names().size() != names.size()) {
            throw new NotDifferentiable("the select list does not match the stream table's columns");
        }
        return plan;
    }

    /** Compiles a part of a query on its own: its tables resolved, its determinism checked (a recursive CTE's non-recursive term). */
    IvmPlan compilePart(Connection c, SqlNode node, List<String> names) throws NotDifferentiable, SQLException {
        Map<List<String>, BaseTable> tables = resolveTables(c, node);
        Determinism.requireFunctionOfData(node, tables);
        return compileQuery(c, node, names, tables);
    }

    /** The tables a query names, resolved as {@link #compile} resolves them. */
    static Map<List<String>, BaseTable> resolve(Connection c, SqlNode node) throws NotDifferentiable, SQLException {
        return resolveTables(c, node);
    }

    /** The checks of {@code select}'s expressions that every compiled SELECT passes (no volatile functions, …). */
    static void checkExpressions(SqlSelect select) throws NotDifferentiable {
        rejectUnsupportedExpressions(select);
    }

    /** The whole query is {@code ORDER BY … LIMIT n [OFFSET m]}: the stream table keeps those rows. */
    private IvmPlan topK(Connection c, SqlOrderBy order, List<String> names, Map<List<String>, BaseTable> tables)
            throws NotDifferentiable, SQLException {
        if (order.query instanceof SqlSelect select && !QueryParser.distinctOn(select).isEmpty()) {
            throw new NotDifferentiable("DISTINCT ON under ORDER BY … LIMIT has no delta rule yet");
        }
        TopKPlan.Keys keys = TopKPlan.keys(order, names);
        List<String> innerNames = new ArrayList<>(names);
        if (!keys.hidden().isEmpty()) {
            // sort keys that are not outputs become hidden outputs of the inner query
            SqlSelect select = (SqlSelect) order.query;
            List<SqlNode> list = new ArrayList<>(select.getSelectList().getList());
            for (int i = 0; i < keys.hidden().size(); i++) {
                list.add(SqlTrees.as(keys.hidden().get(i), TopKPlan.HIDDEN + i));
                innerNames.add(TopKPlan.HIDDEN + i);
            }
            select.setSelectList(new SqlNodeList(list, SqlParserPos.ZERO));
        }
        return TopKPlan.of(compileQuery(c, order.query, innerNames, tables), keys, order, names);
    }

    /** A query: a SELECT, a set operation, or either under ORDER BY (which means nothing to a table). */
    private IvmPlan compileQuery(Connection c, SqlNode node, List<String> names, Map<List<String>, BaseTable> tables)
            throws NotDifferentiable, SQLException {
        if (node instanceof SqlOrderBy order) {
            if (order.fetch != null || order.offset != null) {
                // The top-k rule reads what the stream table holds: it applies to the whole query only.
                throw new NotDifferentiable("ORDER BY … LIMIT/OFFSET in a subquery or a set operation has no delta rule yet");
            }
            if (order.query instanceof SqlSelect select && !QueryParser.distinctOn(select).isEmpty()) {
                // DISTINCT ON keeps the first row of each key in this order: the order is part of the result.
                return compileSelect(c, select, names, tables, order.orderList.getList().stream().map(SqlTrees::sql)
                        .collect(java.util.stream.Collectors.joining(", ")));
            }
            return compileQuery(c, order.query, names, tables);
        }
        if (node instanceof SqlWith) {
            return compileQuery(c, inlineCommonTableExpressions(node), names, tables);
        }
        if (node instanceof SqlSelect select) {
            return compileSelect(c, select, names, tables, null);
        }
        if (node instanceof SqlBasicCall call && call.getOperator() instanceof SqlSetOperator op) {
            SetOpPlan.Kind kind = switch (call.getKind()) {
                case UNION -> SetOpPlan.Kind.UNION;
                case INTERSECT -> SetOpPlan.Kind.INTERSECT;
                case EXCEPT -> SetOpPlan.Kind.EXCEPT;
                default -> throw new NotDifferentiable(call.getKind() + " has no delta rule yet");
            };
            IvmPlan left = compileQuery(c, call.operand(0), names, tables);
            IvmPlan right = compileQuery(c, call.operand(1), names, tables);
            return new SetOpPlan(kind, op.isAll(), left, right, names);
        }
        throw new NotDifferentiable(describe(node) + " has no delta rule yet");
    }

    private IvmPlan compileSelect(Connection c, SqlSelect select, List<String> names,
                                  Map<List<String>, BaseTable> tables, String orderBy)
            throws NotDifferentiable, SQLException {
        rejectUnsupportedExpressions(select);
        if (GroupingSets.present(select)) {
            return GroupingSetsPlan.of(compileQuery(c, GroupingSetsRewrite.asUnion(c, select, tables), names, tables));
        }
        UsingJoins.rewrite(select, tables, q -> outputNames(c, q));
        List<FromItem> items = new ArrayList<>();
        FromTree from = fromTree(c, select.getFrom(), items, tables);
        List<SqlNode> outputs = expandSelectList(select.getSelectList(), items);
        if (outputs.size() != names.size()) {
            throw new NotDifferentiable("the select list does not match the stream table's columns");
        }
        List<String> selectSql = outputs.stream().map(SqlTrees::sql).toList();
        boolean distinct = select.isDistinct();
        boolean aggregates = hasAggregate(c, select.getSelectList()) || select.getHaving() != null;
        SqlNodeList group = select.getGroup();
        if (distinct && (group != null || aggregates)) {
            throw new NotDifferentiable("SELECT DISTINCT with GROUP BY or aggregates has no delta rule yet");
        }
        List<String> groupKeys = new ArrayList<>();
        String groupBy = null;
        List<SqlNode> distinctOn = QueryParser.distinctOn(select);
        if (!distinctOn.isEmpty() && (group != null || aggregates)) {
            throw new NotDifferentiable("DISTINCT ON with GROUP BY or aggregates has no delta rule yet");
        }
        for (SqlNode on : distinctOn) {
            groupKeys.add(SqlTrees.sql(resolveGroupItem(on, select.getSelectList(), outputs, items)));
        }
        if (group != null && !group.isEmpty()) {
            for (SqlNode g : group) {
                SqlNode key = resolveGroupItem(g, select.getSelectList(), outputs, items);
                if (!Subquery.in(key, tables).isEmpty()) {
                    throw new NotDifferentiable("a subquery in GROUP BY has no delta rule yet");
                }
                groupKeys.add(SqlTrees.sql(key));
            }
            groupBy = String.join(", ", group.stream().map(SqlTrees::sql).toList());
        } else if (distinct) {
            groupKeys.addAll(selectSql);
        }
        boolean grouped = distinct || aggregates || groupBy != null || !distinctOn.isEmpty();
        List<String> partition = windowPartition(c, outputs);
        if (partition != null) {
            if (grouped) {
                throw new NotDifferentiable("window functions over a grouped or DISTINCT query have no delta rule yet");
            }
            groupKeys.addAll(partition);
        }
        if (distinct && !Subquery.in(new SqlNodeList(outputs, SqlParserPos.ZERO), tables).isEmpty()) {
            throw new NotDifferentiable("a subquery in a SELECT DISTINCT list has no delta rule yet");
        }
        List<Subquery> outputSubqueries = new ArrayList<>(Subquery.in(new SqlNodeList(outputs, SqlParserPos.ZERO), tables));
        outputSubqueries.addAll(Subquery.in(select.getHaving(), tables));
        if (countOuterJoins(from) > MAX_OUTER_JOINS) {
            throw new NotDifferentiable("more than " + MAX_OUTER_JOINS + " outer joins in one SELECT have no delta rule yet");
        }
        AggregateState algebraic = null;
        if (aggregates && !distinct && distinctOn.isEmpty() && outputSubqueries.isEmpty()) {
            List<SqlNode> keyNodes = new ArrayList<>();
            if (group != null) {
                for (SqlNode g : group) {
                    keyNodes.add(resolveGroupItem(g, select.getSelectList(), outputs, items));
                }
            }
            algebraic = AggregateState.analyze(c, outputs, keyNodes, select.getHaving(), from.render(FromItem::current));
        }
        String where = select.getWhere() == null ? null : SqlTrees.sql(select.getWhere());
        return new SelectPlan(from, selectSql, names, where, GroupKeyPushdown.rewrite(where),
                groupKeys, grouped, partition != null, distinct, distinctOn.isEmpty() ? null : String.join(", ", groupKeys),
                distinctOn.isEmpty() ? null : orderBy, groupBy, select.getHaving() == null ? null : SqlTrees.sql(select.getHaving()),
                tables, Subquery.in(select.getWhere(), tables), outputSubqueries, algebraic);
    }

    /**
     * The PARTITION BY shared by every window call of the outputs (empty when they differ or there
     * is none: one partition), or null without window calls. A change then recomputes only the
     * partitions it touches.
     */
    private static List<String> windowPartition(Connection c, List<SqlNode> outputs) throws NotDifferentiable, SQLException {
        List<SqlCall> windows = new ArrayList<>();
        for (SqlNode o : outputs) {
            o.accept(new SqlBasicVisitor<Void>() {
                @Override
                public Void visit(SqlCall call) {
                    if (SqlTrees.isQuery(call)) {
                        return null;
                    }
                    if (call.getKind() == SqlKind.OVER) {
                        windows.add(call);
                        return null;
                    }
                    return super.visit(call);
                }
            });
        }
        if (windows.isEmpty()) {
            return null;
        }
        SqlNodeList first = null;
        boolean same = true;
        for (SqlCall w : windows) {
            SqlWindow spec = (SqlWindow) w.operand(1);
            List<SqlNode> parts = new ArrayList<>(((SqlCall) w.operand(0)).getOperandList());
            parts.addAll(spec.getPartitionList().getList());
            parts.addAll(spec.getOrderList().getList());
            if (hasAggregate(c, new SqlNodeList(parts.stream().filter(java.util.Objects::nonNull).toList(), SqlParserPos.ZERO))) {
                throw new NotDifferentiable("window functions over aggregates have no delta rule yet");
            }
            if (first == null) {
                first = spec.getPartitionList();
            } else if (!first.equalsDeep(spec.getPartitionList(), org.apache.calcite.util.Litmus.IGNORE)) {
                same = false;
            }
        }
        return same && first != null ? first.getList().stream().map(SqlTrees::sql).toList() : List.of();
    }

    /** Outer joins multiply into 2^n inner-join branches; past a few, FULL refresh is the better deal. */
    private static final int MAX_OUTER_JOINS = 4;

    private static int countOuterJoins(FromTree tree) {
        if (!(tree instanceof FromTree.Join j)) {
            return 0;
        }
        return (j.kind() == FromTree.JoinKind.INNER ? 0 : 1) + countOuterJoins(j.left()) + countOuterJoins(j.right());
    }

    /**
     * Non-recursive WITH: each CTE is inlined where FROM names it, as a subquery under the CTE's
     * name, so it is differentiated like any subquery in FROM.
     */
    static SqlNode inlineCommonTableExpressions(SqlNode node) throws NotDifferentiable {
        if (!(node instanceof SqlWith with)) {
            return node;
        }
        Map<String, SqlNode> ctes = new LinkedHashMap<>();
        for (SqlNode n : with.withList) {
            SqlWithItem item = (SqlWithItem) n;
            if (RecursiveCte.present(new SqlWith(SqlParserPos.ZERO, SqlNodeList.of(item), with.body))) {
                // the whole query's recursive CTE is compiled by RecursiveCte; one inside a subquery is not
                throw new NotDifferentiable("WITH RECURSIVE inside a subquery has no delta rule yet");
            }
            SqlNode body = inline(item.query, ctes);
            if (item.columnList != null && !item.columnList.isEmpty()) {
                List<SqlNode> operands = new ArrayList<>(List.of(body, new SqlIdentifier(item.name.getSimple(), SqlParserPos.ZERO)));
                operands.addAll(item.columnList.getList());
                ctes.put(item.name.getSimple(), SqlStdOperatorTable.AS.createCall(SqlParserPos.ZERO, operands));
            } else {
                ctes.put(item.name.getSimple(), SqlTrees.as(body, item.name.getSimple()));
            }
        }
        return inline(inlineCommonTableExpressions(with.body), ctes);
    }

    private static SqlNode inline(SqlNode query, Map<String, SqlNode> ctes) {
        if (ctes.isEmpty()) {
            return query;
        }
        SqlTrees.forEachFrom(query, from -> inlineFrom(from, ctes));
        return query;
    }

    private static SqlNode inlineFrom(SqlNode from, Map<String, SqlNode> ctes) {
        if (from instanceof SqlJoin join) {
            join.setLeft(inlineFrom(join.getLeft(), ctes));
            join.setRight(inlineFrom(join.getRight(), ctes));
            return join;
        }
        if (from instanceof SqlIdentifier id && id.isSimple() && ctes.containsKey(id.getSimple())) {
            return ctes.get(id.getSimple());
        }
        if (from != null && from.getKind() == SqlKind.AS && ((SqlCall) from).operand(0) instanceof SqlIdentifier id
                && id.isSimple() && ctes.containsKey(id.getSimple())) {
            SqlCall cte = (SqlCall) ctes.get(id.getSimple());
            List<SqlNode> operands = new ArrayList<>(cte.getOperandList());
            operands.set(1, ((SqlCall) from).operand(1));
            if (((SqlCall) from).operandCount() > 2) {
                return from; // column aliases on a CTE reference: left for the compiler to reject
            }
            return SqlStdOperatorTable.AS.createCall(SqlParserPos.ZERO, operands);
        }
        return from;
    }

    /** Every table named in a FROM clause anywhere in the query, resolved by PostgreSQL (search path included). */
    private static Map<List<String>, BaseTable> resolveTables(Connection c, SqlNode node) throws NotDifferentiable, SQLException {
        Map<List<String>, BaseTable> tables = new HashMap<>();
        for (SqlIdentifier id : SqlTrees.tables(node)) {
            if (tables.containsKey(id.names)) {
                continue;
            }
            String text = String.join(".", id.names.stream().map(Identifiers::quote).toList());
            try (var ps = c.prepareStatement("SELECT cl.oid::bigint, cl.relkind::text, n.nspname, cl.relname"
                    + " FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE cl.oid = to_regclass(?)")) {
                ps.setString(1, text);
                try (var rs = ps.executeQuery()) {
                    boolean found = rs.next();
                    if (found && "m".equals(rs.getString(2))) {
                        throw new NotDifferentiable("materialized view " + id + " changes only by REFRESH MATERIALIZED"
                                + " VIEW, which no capture sees, so it is read whole");
                    }
                    if (found && "v".equals(rs.getString(2))) {
                        throw new NotDifferentiable("system view " + id + " reads catalogs whose changes cannot be"
                                + " captured, so it is read whole");
                    }
                    if (!found || !("r".equals(rs.getString(2)) || "p".equals(rs.getString(2)))) {
                        throw new NotDifferentiable(id + " is not a table whose changes can be captured (a foreign"
                                + " table, a CTE inside a subquery, or a function)");
                    }
                    long relid = rs.getLong(1);
                    requireCapturableMembers(c, relid, id);
                    QualifiedName name = new QualifiedName(rs.getString(3), rs.getString(4));
                    // Its columns, and which of them are json-typed: the window's images mark JSON nulls there.
                    RowDecoder decoder = RowDecoder.load(c, relid, name);
                    BaseTable table = new BaseTable(relid, name, decoder.columns(), primaryKey(c, relid), decoder.jsonColumns(),
                            indexLeads(c, relid));
                    tables.put(id.names, table);
                    // The compiler's own SQL names tables in full; those references must resolve too.
                    tables.putIfAbsent(List.of(name.schema(), name.name()), table);
                }
            }
        }
        return tables;
    }

    /** A query over a table reads its partitions and children: each must be one whose changes are captured. */
    private static void requireCapturableMembers(Connection c, long relid, SqlIdentifier id)
            throws NotDifferentiable, SQLException {
        String foreign = io.pgtrickle.core.sql.Jdbc.queryValue(c, String.class, "SELECT string_agg(m.oid::regclass::text, ', ')"
                + " FROM pgtrickle._tree_of(?::oid) t JOIN pg_class m ON m.oid = t.member WHERE m.relkind = 'f'", relid);
        if (foreign != null) {
            throw new NotDifferentiable(id + " has foreign-table partitions or children (" + foreign
                    + "), whose changes cannot be captured");
        }
    }

    /** The first column of each valid, non-partial index of the table. */
    private static Set<String> indexLeads(Connection c, long relid) throws SQLException {
        Set<String> out = new java.util.HashSet<>();
        try (var ps = c.prepareStatement("SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid"
                + " AND a.attnum = i.indkey[0] WHERE i.indrelid = ? AND i.indisvalid AND i.indpred IS NULL")) {
            ps.setLong(1, relid);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private static List<String> primaryKey(Connection c, long relid) throws SQLException {
        List<String> out = new ArrayList<>();
        // A query over an inheritance parent reads its children, which its primary key does not cover.
        if (Boolean.TRUE.equals(io.pgtrickle.core.sql.Jdbc.queryValue(c, Boolean.class, "SELECT EXISTS (SELECT 1 FROM"
                + " pg_inherits i JOIN pg_class k ON k.oid = i.inhrelid WHERE i.inhparent = ?::oid AND NOT k.relispartition)",
                relid))) {
            return out;
        }
        try (var ps = c.prepareStatement("SELECT a.attname FROM pg_index i, unnest(i.indkey::int2[]) WITH ORDINALITY k(attnum, n)"
                + " JOIN pg_attribute a ON a.attnum = k.attnum WHERE i.indrelid = ? AND i.indisprimary"
                + " AND a.attrelid = i.indrelid ORDER BY k.n")) {
            ps.setLong(1, relid);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

    private static String describe(SqlNode node) {
        return switch (node.getKind()) {
            case UNION -> "UNION";
            case INTERSECT -> "INTERSECT";
            case EXCEPT -> "EXCEPT";
            case WITH -> "WITH (common table expressions)";
            case VALUES -> "VALUES";
            default -> node.getKind().toString();
        };
    }

    /**
     * Named windows, LATERAL, WITH inside expressions and volatile functions have no delta rule yet.
     * The clock is the exception where WHERE compares a column with it ({@link ClockFilter}: a
     * sliding window); anywhere else in the SELECT it is refused by where it is.
     */
    private static void rejectUnsupportedExpressions(SqlSelect select) throws NotDifferentiable {
        Map<String, SqlNode> parts = new LinkedHashMap<>();
        parts.put("the select list", select.getSelectList());
        parts.put("WHERE", ClockFilter.withoutClock(select.getWhere()));
        parts.put("HAVING", select.getHaving());
        parts.put("GROUP BY", select.getGroup());
        joinConditions(select.getFrom(), parts);
        String[] problem = new String[1];
        String[] where = new String[1];
        SqlBasicVisitor<Void> visitor = new SqlBasicVisitor<>() {
            @Override
            public Void visit(SqlCall call) {
                if (problem[0] == null) {
                    if (call instanceof SqlWith) {
                        problem[0] = "WITH inside a subquery expression has no delta rule yet";
                    } else if (call.getKind() == SqlKind.OVER && !(call.operand(1) instanceof SqlWindow)) {
                        problem[0] = "named windows (OVER w) have no delta rule yet";
                    } else if (call.getKind() == SqlKind.LATERAL) {
                        problem[0] = "LATERAL has no delta rule yet";
                    } else if (ClockFilter.clockName(call) != null) {
                        problem[0] = clockRefusal(ClockFilter.clockName(call), where[0]);
                    } else if (call.getOperator() instanceof SqlFunction f
                            && VOLATILE.contains(f.getName().toLowerCase(Locale.ROOT))) {
                        problem[0] = "the volatile function " + f.getName().toLowerCase(Locale.ROOT)
                                + "() makes the result depend on when it is computed";
                    }
                }
                return problem[0] == null ? super.visit(call) : null;
            }

            @Override
            public Void visit(SqlIdentifier id) {
                if (problem[0] == null && ClockFilter.clockName(id) != null) {
                    problem[0] = clockRefusal(ClockFilter.clockName(id), where[0]);
                } else if (problem[0] == null && id.isSimple() && VOLATILE.contains(id.getSimple().toLowerCase(Locale.ROOT))) {
                    problem[0] = "the volatile value " + id.getSimple().toLowerCase(Locale.ROOT)
                            + " makes the result depend on when it is computed";
                }
                return null;
            }
        };
        for (Map.Entry<String, SqlNode> part : parts.entrySet()) {
            if (part.getValue() != null && problem[0] == null) {
                where[0] = part.getKey();
                part.getValue().accept(visitor);
            }
        }
        if (problem[0] != null) {
            throw new NotDifferentiable(problem[0]);
        }
        requireClockFreeSubqueriesInFrom(select.getFrom());
    }

    /** Why the clock where it is has no delta rule, and where it has one. */
    private static String clockRefusal(String clock, String where) {
        return ClockFilter.display(clock) + " in " + where + " makes the result depend on when it is computed; the clock"
                + " is maintained differentially only in WHERE comparisons of a column with it (placed_at > now() -"
                + " interval '7 days'): move it there, or refresh FULL";
    }

    /** The ON conditions of the joins of a FROM clause (not of subqueries in it, compiled on their own), as parts to check. */
    private static void joinConditions(SqlNode from, Map<String, SqlNode> parts) {
        if (from instanceof SqlJoin join) {
            joinConditions(join.getLeft(), parts);
            joinConditions(join.getRight(), parts);
            if (join.getCondition() != null && join.getConditionType() == JoinConditionType.ON) {
                parts.put("the JOIN … ON condition " + SqlTrees.sql(join.getCondition()), join.getCondition());
            }
        }
    }

    /** A subquery in FROM is compiled on its own, and its clock would never move: refused by name. */
    private static void requireClockFreeSubqueriesInFrom(SqlNode from) throws NotDifferentiable {
        if (from instanceof SqlJoin join) {
            requireClockFreeSubqueriesInFrom(join.getLeft());
            requireClockFreeSubqueriesInFrom(join.getRight());
            return;
        }
        SqlNode target = from != null && from.getKind() == SqlKind.AS ? ((SqlCall) from).operand(0) : from;
        if (SqlTrees.isQuery(target) && ClockFilter.readsClock(target)) {
            throw new NotDifferentiable("the clock (now(), current_date, …) in a subquery in FROM has no delta rule yet;"
                    + " move the condition to the outer query's WHERE, where it is maintained as a sliding window");
        }
    }

    private FromTree fromTree(Connection c, SqlNode node, List<FromItem> items, Map<List<String>, BaseTable> tables)
            throws NotDifferentiable, SQLException {
        if (node == null) {
            throw new NotDifferentiable("a query without FROM has nothing to maintain");
        }
        if (node instanceof SqlJoin join) {
            JoinType type = join.getJoinType();
            FromTree left = fromTree(c, join.getLeft(), items, tables);
            FromTree right = fromTree(c, join.getRight(), items, tables);
            String condition = join.getConditionType() == JoinConditionType.ON ? SqlTrees.sql(join.getCondition()) : null;
            if (condition != null && !Subquery.in(join.getCondition(), tables).isEmpty()) {
                throw new NotDifferentiable("a subquery in a JOIN … ON condition has no delta rule yet");
            }
            FromTree.JoinKind kind = switch (type) {
                case LEFT -> FromTree.JoinKind.LEFT;
                case RIGHT -> FromTree.JoinKind.RIGHT;
                case FULL -> FromTree.JoinKind.FULL;
                default -> FromTree.JoinKind.INNER;
            };
            if (kind != FromTree.JoinKind.INNER && condition == null) {
                throw new NotDifferentiable("an outer join without ON has no delta rule yet");
            }
            return new FromTree.Join(left, right, kind, condition);
        }
        SqlNode target = node;
        String alias = null;
        List<String> columnAliases = List.of();
        if (node.getKind() == SqlKind.AS) {
            SqlBasicCall as = (SqlBasicCall) node;
            target = as.operand(0);
            alias = ((SqlIdentifier) as.operand(1)).getSimple();
            columnAliases = as.getOperandList().subList(2, as.operandCount()).stream()
                    .map(n -> ((SqlIdentifier) n).getSimple()).toList();
        }
        if (target instanceof SqlIdentifier id) {
            if (!columnAliases.isEmpty()) {
                throw new NotDifferentiable("column aliases on a FROM table have no delta rule yet");
            }
            BaseTable table = tables.get(id.names);
            FromItem item = FromItem.table(items.size(), alias != null ? alias : id.names.get(id.names.size() - 1), table);
            items.add(item);
            return new FromTree.Item(item);
        }
        if (SqlTrees.isQuery(target) && alias != null) {
            List<String> subNames = columnAliases.isEmpty() ? outputNames(c, target) : columnAliases;
            IvmPlan sub;
            try {
                sub = compileQuery(c, target, subNames, tables);
            } catch (NotDifferentiable e) {
                throw ViewInliner.inView(target, e);
            }
            FromItem item = FromItem.derived(items.size(), alias, sub);
            items.add(item);
            return new FromTree.Item(item);
        }
        if (FromFunction.is(target)) {
            FromItem item = FromFunction.item(c, node, target, alias, items);
            items.add(item);
            return new FromTree.Item(item);
        }
        throw new NotDifferentiable(target.getKind() + " in FROM has no delta rule yet");
    }

    /** The column names PostgreSQL gives a subquery's outputs. */
    static List<String> outputNames(Connection c, SqlNode query) throws SQLException {
        // A plain statement: JSON operators such as ? must not be taken for parameters.
        try (var s = c.createStatement(); var rs = s.executeQuery("SELECT * FROM (" + SqlTrees.sql(query) + ") __pgt_x LIMIT 0")) {
            var md = rs.getMetaData();
            List<String> out = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                out.add(md.getColumnLabel(i));
            }
            return out;
        }
    }

    /** The select list with {@code *} and {@code alias.*} spelled out as PostgreSQL would. */
    private static List<SqlNode> expandSelectList(SqlNodeList list, List<FromItem> items) throws NotDifferentiable {
        List<SqlNode> out = new ArrayList<>();
        for (SqlNode n : list) {
            if (n instanceof SqlIdentifier id && id.isStar()) {
                List<FromItem> from = id.names.size() == 1 ? items : items.stream()
                        .filter(i -> i.alias().equals(id.names.get(id.names.size() - 2))).toList();
                if (from.isEmpty()) {
                    throw new NotDifferentiable("cannot expand " + id);
                }
                for (FromItem i : from) {
                    for (String col : i.columns()) {
                        out.add(new SqlIdentifier(List.of(i.alias(), col), id.getParserPosition()));
                    }
                }
            } else {
                out.add(n.getKind() == SqlKind.AS ? ((SqlBasicCall) n).operand(0) : n);
            }
        }
        return out;
    }

    /** A GROUP BY item as the expression it stands for (ordinals and output names resolved). */
    private static SqlNode resolveGroupItem(SqlNode g, SqlNodeList selectList, List<SqlNode> outputs,
                                            List<FromItem> items) throws NotDifferentiable {
        if (g instanceof SqlLiteral literal && literal.getTypeName().getFamily() != null
                && literal.getValue() instanceof java.math.BigDecimal ordinal) {
            int i = ordinal.intValueExact() - 1;
            if (i < 0 || i >= outputs.size()) {
                throw new NotDifferentiable("GROUP BY position " + (i + 1) + " is not in the select list");
            }
            return outputs.get(i);
        }
        if (g instanceof SqlIdentifier id && id.isSimple()) {
            boolean inputColumn = items.stream().anyMatch(i -> i.columns().contains(id.getSimple()));
            if (!inputColumn) {
                for (int i = 0; i < selectList.size(); i++) {
                    SqlNode n = selectList.get(i);
                    if (n.getKind() == SqlKind.AS && ((SqlIdentifier) ((SqlBasicCall) n).operand(1)).getSimple()
                            .equals(id.getSimple())) {
                        return outputs.get(i);
                    }
                }
            }
        }
        return g;
    }

    /** Whether the list calls an aggregate; PostgreSQL decides (Babel leaves its own aggregates unresolved). */
    static boolean hasAggregate(Connection c, SqlNodeList list) throws SQLException {
        List<String> functions = new ArrayList<>();
        list.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                if (SqlTrees.isQuery(call) || call.getKind() == SqlKind.OVER) {
                    return null; // a subquery's aggregates are its own; a window call is not an aggregate
                }
                if (call.getOperator().isAggregator() && call.getKind() != SqlKind.OVER) {
                    functions.add("count");
                } else if (call.getOperator() instanceof SqlFunction f) {
                    functions.add(f.getName().toLowerCase(Locale.ROOT));
                }
                return super.visit(call);
            }
        });
        if (functions.isEmpty()) {
            return false;
        }
        try (var ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM pg_proc WHERE prokind = 'a' AND proname = ANY (?))")) {
            ps.setArray(1, c.createArrayOf("text", functions.toArray()));
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getBoolean(1);
            }
        }
    }
}
