package io.pgtrickle.core.ivm;

import io.pgtrickle.core.query.QueryParser;
import io.pgtrickle.core.query.RelationColumns;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
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
import org.apache.calcite.sql.dialect.PostgresqlSqlDialect;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.util.SqlBasicVisitor;

/**
 * Compiles a defining query into an {@link IvmPlan}, or says which construct has no delta rule.
 * Tables are resolved by PostgreSQL (search path included); expressions are kept as the user
 * wrote them and unparsed for PostgreSQL.
 */
public final class IvmCompiler {
    private static final Set<String> VOLATILE = Set.of("now", "random", "clock_timestamp", "current_timestamp",
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
        if (node instanceof SqlOrderBy order) {
            if (order.fetch != null || order.offset != null) {
                throw new NotDifferentiable("ORDER BY … LIMIT/OFFSET (top-k) has no delta rule yet");
            }
            node = order.query; // row order means nothing to a table
        }
        if (!(node instanceof SqlSelect select)) {
            throw new NotDifferentiable(describe(node) + " has no delta rule yet");
        }
        rejectUnsupportedExpressions(select);
        List<FromItem> items = new ArrayList<>();
        FromTree from = fromTree(c, select.getFrom(), items);
        List<SqlNode> outputs = expandSelectList(select.getSelectList(), items);
        if (outputs.size() != names.size()) {
            throw new NotDifferentiable("the select list does not match the stream table's columns");
        }
        List<String> selectSql = outputs.stream().map(IvmCompiler::sql).toList();
        boolean distinct = select.isDistinct();
        boolean aggregates = hasAggregate(c, select.getSelectList()) || select.getHaving() != null;
        SqlNodeList group = select.getGroup();
        if (group != null && group.stream().anyMatch(g -> g != null && g.getKind() != SqlKind.IDENTIFIER
                && (g instanceof SqlCall call) && (call.getKind() == SqlKind.ROLLUP || call.getKind() == SqlKind.CUBE
                || call.getKind() == SqlKind.GROUPING_SETS))) {
            throw new NotDifferentiable("GROUPING SETS / ROLLUP / CUBE have no delta rule yet");
        }
        if (distinct && (group != null || aggregates)) {
            throw new NotDifferentiable("SELECT DISTINCT with GROUP BY or aggregates has no delta rule yet");
        }
        List<String> groupKeys = new ArrayList<>();
        String groupBy = null;
        if (group != null && !group.isEmpty()) {
            for (SqlNode g : group) {
                groupKeys.add(sql(resolveGroupItem(g, select.getSelectList(), outputs, items)));
            }
            groupBy = String.join(", ", group.stream().map(IvmCompiler::sql).toList());
        } else if (distinct) {
            groupKeys.addAll(selectSql);
        }
        boolean grouped = distinct || aggregates || groupBy != null;
        if (from.hasOuterJoin() && !grouped) {
            // Grouped plans only need the touched groups, which outer joins do not obscure; a row
            // delta through an outer join needs the NULL-padding transitions (not built yet).
            throw new NotDifferentiable("LEFT/RIGHT OUTER JOIN without GROUP BY or DISTINCT has no delta rule yet");
        }
        return new IvmPlan(from, items, selectSql, names, select.getWhere() == null ? null : sql(select.getWhere()),
                groupKeys, grouped, distinct, groupBy, select.getHaving() == null ? null : sql(select.getHaving()));
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

    private static String sql(SqlNode node) {
        return node.toSqlString(PostgresqlSqlDialect.DEFAULT).getSql();
    }

    /** Subqueries, window functions and volatile functions have no delta rule yet. */
    private static void rejectUnsupportedExpressions(SqlSelect select) throws NotDifferentiable {
        List<SqlNode> parts = new ArrayList<>();
        parts.add(select.getSelectList());
        parts.add(select.getWhere());
        parts.add(select.getHaving());
        parts.add(select.getGroup());
        String[] problem = new String[1];
        SqlBasicVisitor<Void> visitor = new SqlBasicVisitor<>() {
            @Override
            public Void visit(SqlCall call) {
                if (problem[0] == null) {
                    if (call instanceof SqlSelect || call.getKind() == SqlKind.EXISTS || call.getKind() == SqlKind.IN
                            && call.operand(1) instanceof SqlSelect) {
                        problem[0] = "a subquery in an expression has no delta rule yet";
                    } else if (call.getKind() == SqlKind.OVER) {
                        problem[0] = "window functions (OVER) have no delta rule yet";
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
                if (problem[0] == null && id.isSimple() && VOLATILE.contains(id.getSimple().toLowerCase(Locale.ROOT))) {
                    problem[0] = "the volatile value " + id.getSimple().toLowerCase(Locale.ROOT)
                            + " makes the result depend on when it is computed";
                }
                return null;
            }
        };
        for (SqlNode part : parts) {
            if (part != null) {
                part.accept(visitor);
            }
        }
        if (problem[0] != null) {
            throw new NotDifferentiable(problem[0]);
        }
    }

    private FromTree fromTree(Connection c, SqlNode node, List<FromItem> items) throws NotDifferentiable, SQLException {
        if (node == null) {
            throw new NotDifferentiable("a query without FROM has nothing to maintain");
        }
        if (node instanceof SqlJoin join) {
            JoinType type = join.getJoinType();
            if (type == JoinType.FULL) {
                throw new NotDifferentiable("FULL OUTER JOIN has no delta rule yet");
            }
            if (join.isNatural() || join.getConditionType() == JoinConditionType.USING) {
                throw new NotDifferentiable("NATURAL JOIN / JOIN … USING have no delta rule yet");
            }
            FromTree left = fromTree(c, join.getLeft(), items);
            FromTree right = fromTree(c, join.getRight(), items);
            String condition = join.getConditionType() == JoinConditionType.ON ? sql(join.getCondition()) : null;
            FromTree.JoinKind kind = type == JoinType.LEFT ? FromTree.JoinKind.LEFT
                    : type == JoinType.RIGHT ? FromTree.JoinKind.RIGHT : FromTree.JoinKind.INNER;
            return new FromTree.Join(left, right, kind, condition);
        }
        SqlNode table = node;
        String alias = null;
        if (node.getKind() == SqlKind.AS) {
            SqlBasicCall as = (SqlBasicCall) node;
            if (as.operandCount() > 2) {
                throw new NotDifferentiable("column aliases on a FROM item have no delta rule yet");
            }
            table = as.operand(0);
            alias = ((SqlIdentifier) as.operand(1)).getSimple();
        }
        if (!(table instanceof SqlIdentifier id)) {
            throw new NotDifferentiable(table.getKind() == SqlKind.SELECT ? "subqueries in FROM have no delta rule yet"
                    : table.getKind() + " in FROM has no delta rule yet");
        }
        String text = String.join(".", id.names.stream().map(Identifiers::quote).toList());
        long relid;
        QualifiedName name;
        try (var ps = c.prepareStatement("SELECT cl.oid::bigint, cl.relkind::text, n.nspname, cl.relname"
                + " FROM pg_class cl JOIN pg_namespace n ON n.oid = cl.relnamespace WHERE cl.oid = to_regclass(?)")) {
            ps.setString(1, text);
            try (var rs = ps.executeQuery()) {
                if (!rs.next() || !("r".equals(rs.getString(2)) || "p".equals(rs.getString(2)))) {
                    throw new NotDifferentiable(id + " is not a table whose changes can be captured (a view, CTE or function)");
                }
                relid = rs.getLong(1);
                name = new QualifiedName(rs.getString(3), rs.getString(4));
            }
        }
        List<String> columns = RelationColumns.of(c, relid).stream().map(col -> col.name()).toList();
        FromItem item = new FromItem(items.size(), relid, name, alias != null ? alias : id.names.get(id.names.size() - 1),
                columns);
        items.add(item);
        return new FromTree.Table(item);
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
    private static boolean hasAggregate(Connection c, SqlNodeList list) throws SQLException {
        List<String> functions = new ArrayList<>();
        list.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
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
