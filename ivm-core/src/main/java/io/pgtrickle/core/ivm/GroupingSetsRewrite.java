package io.pgtrickle.core.ivm;

import io.pgtrickle.core.query.QueryParser;
import io.pgtrickle.core.sql.Identifiers;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Set;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlFunction;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.util.SqlBasicVisitor;

/**
 * What {@link GroupingSets} needs from the catalog to rewrite a query of {@link IvmCompiler}: the
 * columns of its FROM items, which of its functions are aggregates, and the types of its
 * expressions; and the check that the rewrite keeps the query's column types.
 */
final class GroupingSetsRewrite {
    private GroupingSetsRewrite() {
    }

    /**
     * A SELECT grouped by GROUPING SETS / ROLLUP / CUBE as the UNION ALL of one GROUP BY per set
     * ({@link GroupingSets}); PostgreSQL then confirms the rewrite gives the query's column types.
     */
    static SqlNode asUnion(Connection c, SqlSelect select, Map<List<String>, BaseTable> tables)
            throws NotDifferentiable, SQLException {
        String original = QueryParser.toPostgres(select);
        Map<String, List<String>> columns = new LinkedHashMap<>();
        fromColumns(c, select.getFrom(), tables, columns);
        Set<String> aggregates = aggregateNames(c, select);
        GroupingSets.Scope scope = new GroupingSets.Scope() {
            @Override
            public SqlNode resolve(SqlNode element) throws NotDifferentiable {
                List<SqlNode> outputs = select.getSelectList().getList().stream()
                        .map(n -> n.getKind() == SqlKind.AS ? ((SqlBasicCall) n).operand(0) : n).toList();
                if (element instanceof SqlLiteral literal && literal.getValue() instanceof java.math.BigDecimal ordinal) {
                    int i = ordinal.intValue() - 1;
                    if (i < 0 || i >= outputs.size()) {
                        throw new NotDifferentiable("GROUP BY position " + (i + 1) + " is not in the select list");
                    }
                    return outputs.get(i);
                }
                if (element instanceof SqlIdentifier id && id.isSimple()
                        && columns.values().stream().noneMatch(cols -> cols.contains(id.getSimple()))) {
                    for (int i = 0; i < outputs.size(); i++) {
                        SqlNode n = select.getSelectList().get(i);
                        if (n.getKind() == SqlKind.AS && ((SqlIdentifier) ((SqlBasicCall) n).operand(1)).getSimple()
                                .equals(id.getSimple())) {
                            return outputs.get(i);
                        }
                    }
                }
                return element;
            }

            @Override
            public String identity(SqlNode expression) {
                // A column is the same whether written qualified or not: qualify those only one FROM item has.
                SqlNode qualified = expression.accept(new org.apache.calcite.sql.util.SqlShuttle() {
                    @Override
                    public SqlNode visit(SqlIdentifier id) {
                        if (!id.isSimple() || id.isStar()) {
                            return id;
                        }
                        List<String> owners = columns.entrySet().stream().filter(e -> e.getValue().contains(id.getSimple()))
                                .map(Map.Entry::getKey).toList();
                        return owners.size() == 1 ? new SqlIdentifier(List.of(owners.get(0), id.getSimple()), SqlParserPos.ZERO) : id;
                    }
                });
                return SqlTrees.sql(qualified);
            }

            @Override
            public boolean isAggregate(String function) {
                return aggregates.contains(function);
            }

            @Override
            public List<String> types(List<SqlNode> expressions) throws SQLException {
                SqlSelect probe;
                try {
                    probe = (SqlSelect) new QueryParser().parse(original);
                } catch (SqlParseException e) {
                    throw new IllegalStateException("cannot re-read a query the compiler wrote", e);
                }
                List<SqlNode> items = new ArrayList<>();
                for (int i = 0; i < expressions.size(); i++) {
                    items.add(SqlTrees.as(SqlTrees.parseExpression(SqlTrees.sql(expressions.get(i))), "__pgt_g" + i));
                }
                probe.setSelectList(new SqlNodeList(items, SqlParserPos.ZERO));
                probe.setWhere(SqlLiteral.createBoolean(false, SqlParserPos.ZERO));
                probe.setGroupBy(null);
                probe.setHaving(null);
                probe.setOrderBy(null);
                // Joined to one row: pg_typeof of a NULL still names the column's type.
                StringBuilder sql = new StringBuilder("SELECT ");
                for (int i = 0; i < expressions.size(); i++) {
                    sql.append(i == 0 ? "" : ", ").append("pg_typeof(__pgt_t.").append(Identifiers.quote("__pgt_g" + i))
                            .append(")::text");
                }
                sql.append(" FROM (SELECT 1) __pgt_one LEFT JOIN (").append(QueryParser.toPostgres(probe))
                        .append(") __pgt_t ON true");
                List<String> out = new ArrayList<>();
                try (var s = c.createStatement(); var rs = s.executeQuery(sql.toString())) {
                    rs.next();
                    for (int i = 1; i <= expressions.size(); i++) {
                        out.add(rs.getString(i));
                    }
                }
                return out;
            }
        };
        SqlNode union = GroupingSets.rewrite(select, scope);
        List<String> want = columnTypes(c, original);
        List<String> got;
        // Under a savepoint: a failed check must not abort the caller's transaction.
        java.sql.Savepoint sp = c.getAutoCommit() ? null : c.setSavepoint();
        try {
            got = columnTypes(c, QueryParser.toPostgres(union));
            if (sp != null) {
                c.releaseSavepoint(sp);
            }
        } catch (SQLException e) {
            if (sp != null) {
                c.rollback(sp);
            }
            throw new NotDifferentiable("GROUPING SETS / ROLLUP / CUBE: the UNION ALL of GROUP BYs that would maintain"
                    + " it is not valid SQL (" + e.getMessage() + ")");
        }
        if (!want.equals(got)) {
            throw new NotDifferentiable("GROUPING SETS / ROLLUP / CUBE: the UNION ALL of GROUP BYs that would maintain"
                    + " it gives the column types " + got + " instead of " + want);
        }
        return union;
    }

    /** The types PostgreSQL gives the columns of a query. */
    private static List<String> columnTypes(Connection c, String query) throws SQLException {
        try (var s = c.createStatement(); var rs = s.executeQuery("SELECT * FROM (" + query + ") __pgt_x LIMIT 0")) {
            var md = rs.getMetaData();
            List<String> out = new ArrayList<>();
            for (int i = 1; i <= md.getColumnCount(); i++) {
                out.add(md.getColumnTypeName(i));
            }
            return out;
        }
    }

    /** The column names of each FROM item, by alias (a table's columns, a subquery's outputs). */
    private static void fromColumns(Connection c, SqlNode from, Map<List<String>, BaseTable> tables,
                                    Map<String, List<String>> out) throws SQLException {
        if (from instanceof SqlJoin join) {
            fromColumns(c, join.getLeft(), tables, out);
            fromColumns(c, join.getRight(), tables, out);
            return;
        }
        SqlNode target = from;
        String alias = null;
        List<String> aliases = List.of();
        if (from != null && from.getKind() == SqlKind.AS) {
            SqlBasicCall as = (SqlBasicCall) from;
            target = as.operand(0);
            alias = ((SqlIdentifier) as.operand(1)).getSimple();
            aliases = as.getOperandList().subList(2, as.operandCount()).stream().map(n -> ((SqlIdentifier) n).getSimple()).toList();
        }
        if (target instanceof SqlIdentifier id && tables.get(id.names) != null) {
            out.put(alias != null ? alias : id.names.get(id.names.size() - 1),
                    aliases.isEmpty() ? tables.get(id.names).columns() : aliases);
        } else if (alias != null && SqlTrees.isQuery(target)) {
            out.put(alias, aliases.isEmpty() ? IvmCompiler.outputNames(c, target) : aliases);
        }
    }

    /** The functions the select list and HAVING call that PostgreSQL knows as aggregates (lower-case names). */
    private static Set<String> aggregateNames(Connection c, SqlSelect select) throws SQLException {
        Set<String> functions = new java.util.HashSet<>();
        SqlBasicVisitor<Void> visitor = new SqlBasicVisitor<>() {
            @Override
            public Void visit(SqlCall call) {
                if (call.getOperator() instanceof SqlFunction f) {
                    functions.add(f.getName().toLowerCase(Locale.ROOT));
                }
                return super.visit(call);
            }
        };
        select.getSelectList().accept(visitor);
        if (select.getHaving() != null) {
            select.getHaving().accept(visitor);
        }
        Set<String> out = new java.util.HashSet<>();
        if (functions.isEmpty()) {
            return out;
        }
        try (var ps = c.prepareStatement("SELECT DISTINCT proname::text FROM pg_proc WHERE prokind = 'a' AND proname = ANY (?)")) {
            ps.setArray(1, c.createArrayOf("text", functions.toArray()));
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    out.add(rs.getString(1));
                }
            }
        }
        return out;
    }

}
