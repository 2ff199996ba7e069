package io.pgtrickle.core.lineage;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlJoin;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOrderBy;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.SqlWith;
import org.apache.calcite.sql.SqlWithItem;
import org.apache.calcite.sql.util.SqlBasicVisitor;

/**
 * Which source columns each output column of a query is computed from, read off the syntax tree:
 * every column an output's expression mentions (inside functions, aggregates, CASE, casts and
 * scalar subqueries), followed through subqueries, CTEs, joins and set operations to the
 * relations named in FROM clauses. {@code *} and {@code t.*} expand to the columns of the FROM
 * items they cover. Best effort: a reference it cannot place (a set-returning function's column,
 * a name it does not find) contributes nothing rather than failing; a WHERE, GROUP BY or join
 * condition is not lineage and is not followed.
 */
final class ColumnLineage {
    /** An output column of a (sub)query and the source columns it is computed from. */
    record Output(String name, Set<SourceColumn> sources) {
    }

    /** A FROM item: its alias and its columns in order, each with its sources. */
    private record Item(String alias, Map<String, Set<SourceColumn>> columns) {
    }

    /** The FROM items of one query level, and of the levels around it (for correlated references). */
    private record Scope(List<Item> items, Scope parent) {
    }

    private final RelationResolver resolver;
    private final Map<List<String>, Optional<Relation>> resolved = new HashMap<>();

    ColumnLineage(RelationResolver resolver) {
        this.resolver = resolver;
    }

    /** The outputs of {@code query}, in order. */
    List<Output> outputs(SqlNode query) {
        return query(query, Map.of(), null);
    }

    private List<Output> query(SqlNode node, Map<String, List<Output>> ctes, Scope outer) {
        if (node instanceof SqlOrderBy orderBy) {
            return query(orderBy.query, ctes, outer);
        }
        if (node instanceof SqlWith with) {
            Map<String, List<Output>> inner = new HashMap<>(ctes);
            for (SqlNode n : with.withList) {
                SqlWithItem item = (SqlWithItem) n;
                List<Output> outputs = query(item.query, inner, outer);
                inner.put(item.name.getSimple(), rename(outputs, item.columnList));
            }
            return query(with.body, inner, outer);
        }
        if (node instanceof SqlSelect select) {
            return select(select, ctes, outer);
        }
        if (node.getKind() == SqlKind.UNION || node.getKind() == SqlKind.INTERSECT
                || node.getKind() == SqlKind.EXCEPT) {
            // A set operation's output n is the n-th output of every branch; names are the first's.
            List<Output> merged = new ArrayList<>();
            for (SqlNode branch : ((SqlCall) node).getOperandList()) {
                List<Output> outputs = query(branch, ctes, outer);
                for (int i = 0; i < outputs.size(); i++) {
                    if (i < merged.size()) {
                        merged.get(i).sources().addAll(outputs.get(i).sources());
                    } else {
                        merged.add(new Output(outputs.get(i).name(), new LinkedHashSet<>(outputs.get(i).sources())));
                    }
                }
            }
            return merged;
        }
        if (node.getKind() == SqlKind.VALUES) {
            List<Output> outputs = new ArrayList<>();
            for (SqlNode row : ((SqlCall) node).getOperandList()) {
                List<SqlNode> values = ((SqlCall) row).getOperandList();
                for (int i = 0; i < values.size(); i++) {
                    if (i == outputs.size()) {
                        outputs.add(new Output("column" + (i + 1), new LinkedHashSet<>()));
                    }
                    outputs.get(i).sources().addAll(expression(values.get(i), ctes, outer));
                }
            }
            return outputs;
        }
        return List.of();
    }

    private List<Output> select(SqlSelect select, Map<String, List<Output>> ctes, Scope outer) {
        Scope scope = new Scope(new ArrayList<>(), outer);
        if (select.getFrom() != null) {
            from(select.getFrom(), ctes, scope);
        }
        List<Output> outputs = new ArrayList<>();
        for (SqlNode item : select.getSelectList()) {
            SqlNode expr = item;
            String alias = null;
            if (item.getKind() == SqlKind.AS) {
                expr = ((SqlCall) item).operand(0);
                alias = ((SqlIdentifier) ((SqlCall) item).operand(1)).getSimple();
            }
            if (expr instanceof SqlIdentifier id && id.isStar()) {
                for (Item from : scope.items()) {
                    if (id.names.size() == 1 || id.names.get(id.names.size() - 2).equals(from.alias())) {
                        from.columns().forEach((name, sources) -> outputs.add(new Output(name, new LinkedHashSet<>(sources))));
                    }
                }
                continue;
            }
            outputs.add(new Output(alias != null ? alias : nameOf(expr), expression(expr, ctes, scope)));
        }
        return outputs;
    }

    private void from(SqlNode node, Map<String, List<Output>> ctes, Scope scope) {
        if (node instanceof SqlJoin join) {
            from(join.getLeft(), ctes, scope);
            from(join.getRight(), ctes, scope);
            return;
        }
        String alias = null;
        List<String> columnAliases = List.of();
        SqlNode relation = node;
        if (node.getKind() == SqlKind.AS) {
            List<SqlNode> operands = ((SqlCall) node).getOperandList();
            relation = operands.get(0);
            alias = ((SqlIdentifier) operands.get(1)).getSimple();
            columnAliases = operands.subList(2, operands.size()).stream()
                    .map(n -> ((SqlIdentifier) n).getSimple()).toList();
        }
        if (relation.getKind() == SqlKind.LATERAL) {
            relation = ((SqlCall) relation).operand(0);
        }
        List<Output> columns;
        if (relation instanceof SqlIdentifier id) {
            alias = alias != null ? alias : id.names.get(id.names.size() - 1);
            columns = relation(id, ctes);
        } else if (relation.getKind().belongsTo(SqlKind.QUERY)) {
            // A LATERAL subquery sees the items before it; others do not refer to them.
            columns = query(relation, ctes, scope);
        } else {
            columns = List.of();
        }
        Map<String, Set<SourceColumn>> byName = new LinkedHashMap<>();
        for (Output o : rename(columns, columnAliases)) {
            byName.computeIfAbsent(o.name(), k -> new LinkedHashSet<>()).addAll(o.sources());
        }
        scope.items().add(new Item(alias, byName));
    }

    private List<Output> relation(SqlIdentifier id, Map<String, List<Output>> ctes) {
        if (id.names.size() == 1 && ctes.containsKey(id.getSimple())) {
            return ctes.get(id.getSimple());
        }
        Optional<Relation> relation = resolved.computeIfAbsent(List.copyOf(id.names), resolver::resolve);
        if (relation.isEmpty()) {
            return List.of();
        }
        Relation r = relation.get();
        return r.columns().stream()
                .map(c -> new Output(c, new LinkedHashSet<>(List.of(new SourceColumn(r.relid(), r.schema(), r.table(), c)))))
                .toList();
    }

    private Set<SourceColumn> expression(SqlNode expr, Map<String, List<Output>> ctes, Scope scope) {
        Set<SourceColumn> sources = new LinkedHashSet<>();
        expr.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlIdentifier id) {
                if (!id.isStar()) {
                    sources.addAll(column(id, scope));
                }
                return null;
            }

            @Override
            public Void visit(SqlCall call) {
                if (call.getKind().belongsTo(SqlKind.QUERY)) {
                    // A scalar or EXISTS subquery: what it returns is computed from its outputs.
                    query(call, ctes, scope).forEach(o -> sources.addAll(o.sources()));
                    return null;
                }
                return super.visit(call);
            }
        });
        return sources;
    }

    /** The sources of a column reference: innermost scope first, as SQL resolves names. */
    private static Set<SourceColumn> column(SqlIdentifier id, Scope scope) {
        List<String> names = id.names;
        String column = names.get(names.size() - 1);
        for (Scope s = scope; s != null; s = s.parent()) {
            Set<SourceColumn> found = new LinkedHashSet<>();
            if (names.size() == 1) {
                // In every item that has it (a USING / NATURAL join column is in both sides).
                s.items().stream().filter(i -> i.columns().containsKey(column))
                        .forEach(i -> found.addAll(i.columns().get(column)));
                if (found.isEmpty()) {
                    // A whole-row reference such as to_jsonb(t).
                    s.items().stream().filter(i -> column.equals(i.alias()))
                            .forEach(i -> i.columns().values().forEach(found::addAll));
                }
            } else {
                String qualifier = names.get(names.size() - 2);
                s.items().stream().filter(i -> qualifier.equals(i.alias()) && i.columns().containsKey(column))
                        .forEach(i -> found.addAll(i.columns().get(column)));
            }
            if (!found.isEmpty()) {
                return found;
            }
        }
        return Set.of();
    }

    /** The name PostgreSQL gives an unaliased output: the column's, or the function's. */
    private static String nameOf(SqlNode expr) {
        if (expr instanceof SqlIdentifier id) {
            return id.names.get(id.names.size() - 1);
        }
        if (expr instanceof SqlCall call) {
            if (call.getKind() == SqlKind.CAST) {
                return nameOf(call.operand(0));
            }
            if (call.getKind() == SqlKind.CASE) {
                return "case";
            }
            if (call.getOperator().getSyntax() == org.apache.calcite.sql.SqlSyntax.FUNCTION
                    || call.getOperator().getSyntax() == org.apache.calcite.sql.SqlSyntax.FUNCTION_STAR) {
                return call.getOperator().getName().toLowerCase(Locale.ROOT);
            }
        }
        return "?column?";
    }

    private static List<Output> rename(List<Output> outputs, Iterable<?> names) {
        List<String> list = new ArrayList<>();
        if (names != null) {
            for (Object n : names) {
                list.add(n instanceof SqlIdentifier id ? id.getSimple() : String.valueOf(n));
            }
        }
        List<Output> renamed = new ArrayList<>();
        for (int i = 0; i < outputs.size(); i++) {
            renamed.add(i < list.size() ? new Output(list.get(i), outputs.get(i).sources()) : outputs.get(i));
        }
        return renamed;
    }
}
