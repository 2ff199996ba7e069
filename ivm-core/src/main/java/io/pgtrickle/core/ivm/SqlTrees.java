package io.pgtrickle.core.ivm;

import io.pgtrickle.core.query.QueryParser;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.util.SqlBasicVisitor;

/** Small operations on Calcite syntax trees: unparsing for PostgreSQL, and finding or swapping tables. */
final class SqlTrees {
    private static final QueryParser PARSER = new QueryParser();

    private SqlTrees() {
    }

    /** PostgreSQL SQL for {@code node}. */
    static String sql(SqlNode node) {
        // Outside a query, Calcite writes a subquery without its parentheses (EXISTS SELECT …);
        // inside a select list it writes them, so a query comes back parenthesized.
        SqlSelect wrapper = new SqlSelect(SqlParserPos.ZERO, null, SqlNodeList.of(node), null, null, null, null, null,
                null, null, null, null);
        String text = unparse(wrapper);
        if (!text.startsWith("SELECT ")) {
            throw new IllegalStateException("unexpected unparse: " + text);
        }
        return text.substring("SELECT ".length());
    }

    private static String unparse(SqlNode node) {
        return QueryParser.toPostgres(node);
    }

    /** Whether {@code node} is a query (a subquery where it appears in an expression). */
    static boolean isQuery(SqlNode node) {
        return node != null && node.getKind().belongsTo(SqlKind.QUERY);
    }

    /** Whether {@code node} is a query or holds one anywhere inside (a subquery in an expression). */
    static boolean containsQuery(SqlNode node) {
        if (node == null) {
            return false;
        }
        boolean[] found = {false};
        node.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                if (isQuery(call)) {
                    found[0] = true;
                    return null;
                }
                return super.visit(call);
            }
        });
        return found[0] || isQuery(node);
    }

    /** Every table reference in a FROM clause anywhere inside {@code node} (subqueries included). */
    static List<SqlIdentifier> tables(SqlNode node) {
        List<SqlIdentifier> out = new ArrayList<>();
        forEachFrom(node, from -> {
            collectTables(from, out);
            return from;
        });
        return out;
    }

    private static void collectTables(SqlNode from, List<SqlIdentifier> out) {
        if (from instanceof SqlJoin join) {
            collectTables(join.getLeft(), out);
            collectTables(join.getRight(), out);
        } else if (from instanceof SqlIdentifier id) {
            out.add(id);
        } else if (from != null && from.getKind() == SqlKind.AS && ((SqlCall) from).operand(0) instanceof SqlIdentifier id) {
            out.add(id);
        }
    }

    /** Applies {@code rewrite} to the FROM clause of every SELECT inside {@code node}, outermost first. */
    static void forEachFrom(SqlNode node, Function<SqlNode, SqlNode> rewrite) {
        if (node == null) {
            return;
        }
        node.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                if (call instanceof SqlSelect select && select.getFrom() != null) {
                    select.setFrom(rewrite.apply(select.getFrom()));
                }
                return super.visit(call);
            }
        });
    }

    /**
     * Replaces table references in FROM clauses: {@code replacement} maps a table identifier to
     * the node that stands for it (null keeps it); the reference keeps its alias.
     */
    static SqlNode replaceTables(SqlNode from, Function<SqlIdentifier, SqlNode> replacement) {
        if (from instanceof SqlJoin join) {
            join.setLeft(replaceTables(join.getLeft(), replacement));
            join.setRight(replaceTables(join.getRight(), replacement));
            return join;
        }
        if (from instanceof SqlIdentifier id) {
            SqlNode r = replacement.apply(id);
            return r == null ? id : as(r, id.names.get(id.names.size() - 1));
        }
        if (from != null && from.getKind() == SqlKind.AS && ((SqlCall) from).operand(0) instanceof SqlIdentifier id) {
            SqlNode r = replacement.apply(id);
            if (r != null) {
                ((SqlBasicCall) from).setOperand(0, r);
            }
        }
        return from;
    }

    static SqlNode as(SqlNode node, String alias) {
        return SqlStdOperatorTable.AS.createCall(SqlParserPos.ZERO, node, new SqlIdentifier(alias, SqlParserPos.ZERO));
    }

    /** A fresh syntax tree of an expression (a select item or condition) given as SQL. */
    static SqlNode parseExpression(String sql) {
        try {
            SqlSelect s = (SqlSelect) PARSER.parse("SELECT " + sql + " AS __pgt_e FROM __pgt_none");
            return ((SqlCall) s.getSelectList().get(0)).operand(0);
        } catch (SqlParseException e) {
            throw new IllegalStateException("cannot re-read an expression the compiler wrote: " + sql, e);
        }
    }

    /**
     * {@code sql} (an expression) with every table that has changes in the window read as it was
     * at the previous frontier. The columns by which each SELECT looks such a table up (its
     * equalities, see {@link #probedColumns}) go with it, so that the window's removed rows get
     * an index on them.
     */
    static String asBefore(String sql, Map<List<String>, BaseTable> tables, DeltaContext ctx) {
        SqlNode expr = parseExpression(sql);
        expr.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                if (call instanceof SqlSelect select && select.getFrom() != null) {
                    Map<List<String>, java.util.Set<String>> probed = probedColumns(select, tables);
                    select.setFrom(replaceTables(select.getFrom(), id -> {
                        BaseTable t = tables.get(id.names);
                        return t != null && ctx.changed(t.relid())
                                ? new SqlIdentifier(ctx.old(t, probed.getOrDefault(id.names, java.util.Set.of())), SqlParserPos.ZERO)
                                : null;
                    }));
                }
                return super.visit(call);
            }
        });
        return sql(expr);
    }

    /**
     * The columns of the tables in {@code select}'s FROM that its equalities ({@code alias.col =
     * …}, or {@code col = …} when only one of its tables has col; in WHERE and ON, under AND)
     * compare with something: a correlated subquery is evaluated once per outer row with such a
     * condition, and reads its tables by them. By table identifier.
     */
    static Map<List<String>, java.util.Set<String>> probedColumns(SqlSelect select, Map<List<String>, BaseTable> tables) {
        Map<String, List<String>> aliases = new java.util.LinkedHashMap<>();
        List<SqlNode> conjuncts = new ArrayList<>();
        collectFromItems(select.getFrom(), aliases, conjuncts);
        if (select.getWhere() != null) {
            conjuncts.add(select.getWhere());
        }
        Map<List<String>, java.util.Set<String>> out = new java.util.HashMap<>();
        while (!conjuncts.isEmpty()) {
            SqlNode c = conjuncts.remove(conjuncts.size() - 1);
            if (c.getKind() == SqlKind.AND) {
                conjuncts.addAll(((SqlCall) c).getOperandList());
                continue;
            }
            if (c.getKind() != SqlKind.EQUALS) {
                continue;
            }
            for (SqlNode side : ((SqlCall) c).getOperandList()) {
                if (!(side instanceof SqlIdentifier id) || id.isStar() || id.names.size() > 2) {
                    continue;
                }
                String column = id.names.get(id.names.size() - 1);
                List<List<String>> owners = aliases.entrySet().stream()
                        .filter(e -> tables.get(e.getValue()) != null && tables.get(e.getValue()).columns().contains(column)
                                && (id.isSimple() || id.names.get(0).equals(e.getKey())))
                        .map(Map.Entry::getValue).toList();
                if (owners.size() == 1) {
                    out.computeIfAbsent(owners.get(0), k -> new java.util.TreeSet<>()).add(column);
                }
            }
        }
        return out;
    }

    /** The tables of a FROM clause by alias, and its ON conditions (of any join kind: only an index choice follows). */
    private static void collectFromItems(SqlNode from, Map<String, List<String>> aliases, List<SqlNode> conditions) {
        if (from instanceof SqlJoin join) {
            collectFromItems(join.getLeft(), aliases, conditions);
            collectFromItems(join.getRight(), aliases, conditions);
            if (join.getCondition() != null) {
                conditions.add(join.getCondition());
            }
        } else if (from instanceof SqlIdentifier id) {
            aliases.put(id.names.get(id.names.size() - 1), id.names);
        } else if (from != null && from.getKind() == SqlKind.AS && ((SqlCall) from).operand(0) instanceof SqlIdentifier id) {
            aliases.put(((SqlIdentifier) ((SqlCall) from).operand(1)).getSimple(), id.names);
        } else if (from != null && from.getKind() == SqlKind.AS) {
            aliases.put(((SqlIdentifier) ((SqlCall) from).operand(1)).getSimple(), List.of()); // a derived table: owns names
        }
    }
}
