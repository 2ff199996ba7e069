package io.pgtrickle.core.ivm;

import io.pgtrickle.core.capture.RowDecoder;
import io.pgtrickle.core.sql.Identifiers;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.calcite.sql.SqlNode;

/**
 * One SELECT compiled for differential maintenance: FROM items (tables, subqueries) combined by
 * inner and outer joins, a filter that may hold subqueries, output expressions, and optionally
 * grouping (GROUP BY, aggregates, DISTINCT). Expressions are the user's own, unparsed for
 * PostgreSQL, and always evaluated under the aliases the query gives its FROM items — the delta
 * queries only swap what those aliases stand for.
 *
 * @param from the FROM items and joins
 * @param select output expressions (SQL), one per column
 * @param names the column names, in order
 * @param where the WHERE condition, or null
 * @param deltaWhere the WHERE condition as the delta terms evaluate it (its INs on a subquery's
 *     group key correlated, see {@link GroupKeyPushdown}), or null
 * @param groupKeys group key expressions, when grouped (empty for one global group)
 * @param grouped whether the query aggregates or is DISTINCT
 * @param windowed whether outputs call window functions; the group keys are then their PARTITION BY
 * @param distinct SELECT DISTINCT
 * @param distinctOn the expressions of SELECT DISTINCT ON, or null (they are the group keys)
 * @param orderBy the ORDER BY that picks DISTINCT ON's row, or null
 * @param groupBy the GROUP BY clause text, or null
 * @param having the HAVING condition, or null
 * @param tables every table the query reads, by the identifier it is written with
 * @param filterSubqueries the subqueries of WHERE
 * @param outputSubqueries the subqueries of the select list and HAVING
 * @param aggregates the algebraic form of the aggregates, or null when groups are rescanned
 */
public record SelectPlan(FromTree from, List<String> select, List<String> names, String where, String deltaWhere,
                         List<String> groupKeys, boolean grouped, boolean windowed, boolean distinct, String distinctOn, String orderBy,
                         String groupBy, String having,
                         Map<List<String>, BaseTable> tables, List<Subquery> filterSubqueries,
                         List<Subquery> outputSubqueries, AggregateState aggregates) implements IvmPlan {
    /** Most changed tables of one join branch whose delta is written as inclusion–exclusion (2^n − 1 terms). */
    static final int MAX_INCLUSION_EXCLUSION = 3;

    @Override
    public Set<Long> relids() {
        Set<Long> out = new HashSet<>();
        from.items().forEach(i -> out.addAll(i.relids()));
        filterSubqueries.forEach(s -> out.addAll(s.relids()));
        outputSubqueries.forEach(s -> out.addAll(s.relids()));
        return out;
    }

    @Override
    public Map<Long, RowDecoder> decoders() {
        // tables holds every table of the whole query, subqueries included
        Map<Long, RowDecoder> out = new java.util.HashMap<>();
        tables.values().forEach(t -> out.putIfAbsent(t.relid(), t.decoder()));
        return out;
    }

    /**
     * Whether the delta of a change to its one table is a function of the changed rows alone: one
     * table (no join, no derived table), functions in FROM, no subquery and no window function.
     */
    public boolean readsOnlyTheChangedRows() {
        long tablesInFrom = from.items().stream().filter(i -> i.table() != null).count();
        boolean othersAreFunctions = from.items().stream().allMatch(i -> i.table() != null || i.function() != null);
        return tablesInFrom == 1 && othersAreFunctions && relids().size() == 1 && filterSubqueries.isEmpty()
                && outputSubqueries.isEmpty() && !windowed;
    }

    @Override
    public boolean keyed() {
        return grouped;
    }

    /** The clock conjuncts of WHERE, maintained as a sliding window, or null when it does not read the clock. */
    public ClockFilter clock() {
        // Most filters name no clock: no need to read them again.
        if (where == null || ClockFilter.CLOCK.stream().noneMatch(where.toLowerCase(java.util.Locale.ROOT)::contains)) {
            return null;
        }
        try {
            return ClockFilter.of(SqlTrees.parseExpression(where));
        } catch (NotDifferentiable e) {
            throw new IllegalStateException("a clock filter the compiler accepted: " + e.getMessage(), e);
        }
    }

    /** The group key, when every part of it is an output (window partitions hold many rows: no key). */
    @Override
    public List<String> rowKey() {
        if (!grouped || windowed) {
            return null;
        }
        List<String> key = new java.util.ArrayList<>();
        for (String expression : groupKeys) {
            int i = select.indexOf(expression);
            if (i < 0) {
                return null;
            }
            key.add(names.get(i));
        }
        return key;
    }

    @Override
    public String recomputeReason(Set<Long> changed) {
        DeltaContext ctx = DeltaContext.allChanged(changed);
        if (filterSubqueries.stream().anyMatch(s -> s.reachesEveryRow(ctx))) {
            return "a subquery of the filter that no equality ties to the outer row (or a grouped or nested one) read"
                    + " changed tables: every row may flip, and recomputing once costs less than re-evaluating every row"
                    + " before and after";
        }
        return from.items().stream().filter(i -> i.derived() != null && !i.nulled())
                .map(i -> i.derived().recomputeReason(changed)).filter(java.util.Objects::nonNull).findFirst().orElse(null);
    }

    @Override
    public String strategy() {
        StringBuilder s = new StringBuilder();
        String keys = String.join(", ", groupKeys);
        if (aggregates != null) {
            s.append("aggregate by (").append(keys).append(")  [").append(aggregates.describe()).append("]\n");
        } else if (distinctOn != null) {
            s.append("distinct on (").append(keys).append(")  [recompute the keys the changes touch, MERGE the rows that differ]\n");
        } else if (windowed) {
            s.append("window partitioned by (").append(keys)
                    .append(")  [recompute the partitions the changes touch: their rows before (−) and after (+)]\n");
        } else if (grouped) {
            s.append(distinct ? "distinct" : "aggregate by (" + keys + ")")
                    .append("  [group rescan: recompute the groups the changes touch, MERGE the rows that differ]\n");
        } else {
            s.append("project  [row deltas, applied as a multiset by content hash]\n");
        }
        StringBuilder inner = new StringBuilder();
        ClockFilter clock = clock();
        if (clock != null) {
            inner.append("clock in WHERE, compared with ").append(String.join(", ", new java.util.LinkedHashSet<>(
                    clock.bounds().stream().map(ClockFilter.Bound::column).toList())))
                    .append("  [sliding window: each refresh fixes the clock at its transaction's now(); the rows whose"
                            + " truth flips since the previous refresh's clock are read by range on the compared columns"
                            + " and applied as changes]\n");
        }
        if (where != null) {
            inner.append("filter ").append(where);
            inner.append(filterSubqueries.isEmpty() ? "  [row by row]\n"
                    : "  [subqueries: outer rows whose result a change may flip are re-evaluated before and after"
                            + (filterSubqueries.stream().allMatch(Subquery::narrowable) ? ", narrowed by correlation"
                            : "") + "]\n");
        }
        if (!outputSubqueries.isEmpty()) {
            inner.append("subqueries in outputs  [rows they may change are re-emitted before (−) and after (+)]\n");
        }
        inner.append(treeOf(from));
        s.append(inner.toString().indent(2));
        return s.toString().stripTrailing();
    }

    private static String treeOf(FromTree tree) {
        if (tree instanceof FromTree.Item i) {
            FromItem item = i.item();
            if (item.table() != null) {
                return "scan " + item.table().name() + " AS " + item.alias() + "  [delta: its change window]\n";
            }
            if (item.function() != null) {
                return "function " + item.function() + "  [no changes of its own: applied to each term's version of the"
                        + " items it references]\n";
            }
            return "subquery AS " + item.alias() + "  [delta: its plan's delta]\n" + item.derived().strategy().indent(2);
        }
        FromTree.Join j = (FromTree.Join) tree;
        String head = j.condition() == null ? "cross join  [Σ changes of one side × the other, before/after]"
                : switch (j.kind()) {
                    case INNER -> "join ON " + j.condition() + "  [Σ changes of one side × the other, before/after]";
                    case LEFT, RIGHT, FULL -> j.kind().name().toLowerCase(java.util.Locale.ROOT) + " join ON " + j.condition()
                            + "  [inner-join delta + NULL-padded rows where NOT EXISTS a match]";
                };
        return head + "\n" + (treeOf(j.left()) + treeOf(j.right())).indent(2);
    }

    @Override
    public String deltaSqlForExplain() {
        ClockFilter clock = clock();
        DeltaContext ctx = DeltaContext.allChanged(relids(), clock == null ? null : ClockMove.symbolic(clock));
        String sql = ctx.wrap(grouped ? "-- groups touched:\n" + touchedKeys(ctx) : delta(ctx));
        return ctx.setupSql() + sql;
    }

    private String selectList(List<String> expressions) {
        return IntStream.range(0, expressions.size())
                .mapToObj(i -> expressions.get(i) + " AS " + Identifiers.quote(names.get(i)))
                .collect(Collectors.joining(", "));
    }

    private String groupHash() {
        return "md5(row(" + String.join(", ", groupKeys) + ")::text)::uuid";
    }

    private String selectHead() {
        return "SELECT " + (distinct ? "DISTINCT " : distinctOn != null ? "DISTINCT ON (" + distinctOn + ") " : "");
    }

    @Override
    public String currentSql() {
        return selectHead() + selectList(select) + " FROM " + from.render(FromItem::current) + clauses(where, having, "");
    }

    @Override
    public String hashedFullQuery() {
        if (!grouped) {
            return null;
        }
        return selectHead() + selectList(select) + ", " + groupHash() + " AS __pgt_h FROM "
                + from.render(FromItem::current) + clauses(where, having, "");
    }

    private String clauses(String filter, String havingCondition, String extraCondition) {
        StringBuilder s = new StringBuilder();
        String condition = and(filter, extraCondition.isEmpty() ? null : extraCondition);
        if (condition != null) {
            s.append(" WHERE ").append(condition);
        }
        if (groupBy != null) {
            s.append(" GROUP BY ").append(groupBy);
        }
        if (havingCondition != null) {
            s.append(" HAVING ").append(havingCondition);
        }
        if (orderBy != null) {
            s.append(" ORDER BY ").append(orderBy);
        }
        return s.toString();
    }

    private static String and(String a, String b) {
        return a == null ? b : b == null ? a : "(" + a + ") AND (" + b + ")";
    }

    private static String and(List<String> conditions) {
        String out = null;
        for (String c : conditions) {
            out = and(out, c);
        }
        return out;
    }

    @Override
    public String delta(DeltaContext ctx) {
        if (!ctx.changedAny(relids()) && (ctx.clock() == null || clock() == null)) {
            return null;
        }
        if (!grouped && !windowed) {
            return String.join("\nUNION ALL\n", weightedTerms(ctx, selectList(select), true));
        }
        // Grouped (as a subquery) or windowed: the touched groups or partitions, their rows before
        // negated and after.
        String keys = ctx.cte("__pgt_keys", touchedKeys(ctx));
        Function<String, String> before = sql -> sql == null ? null : SqlTrees.asBefore(sql, tables, ctx);
        String now = recompute(keys, FromItem::current, select, where, having, false);
        String then = recompute(keys, item -> item.old(ctx), select.stream().map(before).toList(), before.apply(where),
                before.apply(having), false);
        String cols = names.stream().map(Identifiers::quote).collect(Collectors.joining(", "));
        return "SELECT " + cols + ", 1::bigint AS __pgt_w FROM (" + now + ") __pgt_a UNION ALL SELECT " + cols
                + ", -1::bigint FROM (" + then + ") __pgt_b";
    }

    /**
     * The delta terms of every inner-join branch, each selecting {@code projection} and, when
     * {@code weighted}, the product of weights as {@code __pgt_w}. For FROM item i with changes:
     * earlier items as before, item i's changes, later items as now (subqueries read as now).
     * Then, when a subquery's tables changed: every outer row (FROM as before) the change may flip,
     * once as now (+) and once as before (−).
     */
    List<String> weightedTerms(DeltaContext ctx, String projection, boolean weighted) {
        List<String> terms = new ArrayList<>();
        ClockFilter clock = ctx.clock() == null ? null : clock();
        // The time delta reads the data as it was: outputs with subqueries are evaluated as before too.
        String clockProjection = clock != null && !outputSubqueries.isEmpty() && projection.equals(selectList(select))
                ? selectList(select.stream().map(e -> SqlTrees.asBefore(e, tables, ctx)).toList()) : projection;
        for (FromTree.Branch branch : from.innerBranches()) {
            List<FromItem> items = branch.tree().items();
            // The delta terms evaluate WHERE only on their own outer rows: subqueries correlated on a group key
            // read those rows' groups alone.
            String filter = and(deltaWhere, and(branch.predicates()));
            List<FromItem> changedItems = items.stream().filter(item -> item.changed(ctx)).toList();
            if (changedItems.size() <= MAX_INCLUSION_EXCLUSION
                    && changedItems.stream().allMatch(item -> item.table() != null)) {
                terms.addAll(inclusionExclusionTerms(branch, changedItems, ctx, projection, weighted, filter));
                changedItems = List.of();
            }
            for (FromItem changed : changedItems) {
                String fromClause = branch.tree().render(item -> item.index() < changed.index()
                        ? (item.changed(ctx) ? item.previous(ctx) : item.current())
                        : item.index() == changed.index() ? item.delta(ctx) : item.current());
                String weight = items.stream()
                        .filter(item -> item.index() < changed.index() && item.changed(ctx) || item.index() == changed.index())
                        .map(item -> item.quotedAlias() + ".__pgt_w").collect(Collectors.joining(" * "));
                terms.add("SELECT " + projection + (weighted ? ", " + weight + " AS __pgt_w" : "") + " FROM " + fromClause
                        + (filter == null ? "" : " WHERE " + filter));
            }
            terms.addAll(ClockTerms.of(this, clock, branch, ctx, clockProjection, weighted, filter));
            List<Subquery> subqueries = new ArrayList<>(filterSubqueries);
            subqueries.addAll(outputSubqueries);
            subqueries.addAll(unmatchedSubqueries(branch));
            String touched = Subquery.touchAll(subqueries, ctx);
            if ("false".equals(touched)) {
                continue;
            }
            String fromClause = branch.tree().render(item -> item.changed(ctx) ? item.previous(ctx) : item.current());
            String weight = items.stream().filter(item -> item.changed(ctx)).map(item -> item.quotedAlias() + ".__pgt_w")
                    .collect(Collectors.joining(" * "));
            weight = weight.isEmpty() ? "1::bigint" : weight;
            // Conditions without subqueries read the same before and after: they stay plain conjuncts,
            // where PostgreSQL can use them as join keys; only the others are compared.
            List<String> fixed = new ArrayList<>();
            List<String> varying = new ArrayList<>();
            if (filter != null) {
                for (SqlNode conjunct : conjuncts(SqlTrees.parseExpression(filter))) {
                    (Subquery.in(conjunct, tables).isEmpty() ? fixed : varying).add("(" + SqlTrees.sql(conjunct) + ")");
                }
            }
            String dynamic = varying.isEmpty() ? "true" : String.join(" AND ", varying);
            if (touched != null && !varying.isEmpty()) {
                // few candidate rows: their EXISTS probe an index per row rather than hash the whole table
                dynamic = PerRowExists.rewrite(dynamic, tables);
            }
            String now = "coalesce(" + dynamic + ", false)";
            String then = "coalesce(" + SqlTrees.asBefore(dynamic, tables, ctx) + ", false)";
            List<String> scopeParts = new ArrayList<>(fixed);
            if (touched != null) {
                String key = Subquery.impliedKey(subqueries, ctx);
                if (key != null) {
                    scopeParts.add(key);
                }
                scopeParts.add(touched);
            }
            String scope = scopeParts.isEmpty() ? "" : String.join(" AND ", scopeParts) + " AND ";
            if (!weighted) {
                terms.add("SELECT " + projection + " FROM " + fromClause + " WHERE " + scope + now + " <> " + then);
            } else if (outputSubqueries.isEmpty()) {
                terms.add("SELECT " + projection + ", " + weight + " * (" + now + "::int - " + then + "::int) AS __pgt_w FROM "
                        + fromClause + " WHERE " + scope + now + " <> " + then);
            } else {
                String beforeProjection = selectList(select.stream().map(e -> SqlTrees.asBefore(e, tables, ctx)).toList());
                terms.add("SELECT " + projection + ", " + weight + " AS __pgt_w FROM " + fromClause + " WHERE " + scope + now);
                terms.add("SELECT " + beforeProjection + ", -(" + weight + ") AS __pgt_w FROM " + fromClause + " WHERE "
                        + scope + then);
            }
        }
        return terms;
    }

    /**
     * The join delta as inclusion–exclusion over the changed tables C: for every non-empty subset
     * S of C, the join with S's tables replaced by their changes and every other table as it is
     * now, weighted by (−1)^(|S|+1). Since now = before + Δ for each table, these terms sum to
     * Δ(⋈) exactly, like the telescoping form, but no table is read "as before": every term reads
     * the tables as they are, so the few changed rows probe their indexes, and the terms with
     * several Δ join small change sets with each other. 2^|C| − 1 terms, hence the bound.
     */
    private List<String> inclusionExclusionTerms(FromTree.Branch branch, List<FromItem> changedItems, DeltaContext ctx,
                                                 String projection, boolean weighted, String filter) {
        List<String> terms = new ArrayList<>();
        for (int subset = 1; subset < 1 << changedItems.size(); subset++) {
            Set<Integer> inDelta = new HashSet<>();
            for (int i = 0; i < changedItems.size(); i++) {
                if ((subset & 1 << i) != 0) {
                    inDelta.add(changedItems.get(i).index());
                }
            }
            String fromClause = branch.tree().render(item -> inDelta.contains(item.index()) ? item.delta(ctx) : item.current());
            String product = branch.tree().items().stream().filter(item -> inDelta.contains(item.index()))
                    .map(item -> item.quotedAlias() + ".__pgt_w").collect(Collectors.joining(" * "));
            String weight = inDelta.size() % 2 == 1 ? product : "-(" + product + ")";
            terms.add("SELECT " + projection + (weighted ? ", " + weight + " AS __pgt_w" : "") + " FROM " + fromClause
                    + (filter == null ? "" : " WHERE " + filter));
        }
        return terms;
    }

    private static List<SqlNode> conjuncts(SqlNode condition) {
        if (condition.getKind() == org.apache.calcite.sql.SqlKind.AND) {
            List<SqlNode> out = new ArrayList<>();
            for (SqlNode operand : ((org.apache.calcite.sql.SqlCall) condition).getOperandList()) {
                out.addAll(conjuncts(operand));
            }
            return out;
        }
        return List.of(condition);
    }

    /** The NOT EXISTS subqueries of a branch's NULL-padded sides, one per padded side. */
    private List<Subquery> unmatchedSubqueries(FromTree.Branch branch) {
        List<Subquery> out = new ArrayList<>();
        for (String predicate : branch.predicates()) {
            out.addAll(Subquery.in(SqlTrees.parseExpression(predicate), tables));
        }
        return out;
    }

    /** The group keys the changes touch (grouped plans), as columns __pgt_k0 or __pgt_k1 … */
    String touchedKeys(DeltaContext ctx) {
        String projection = groupKeys.isEmpty() ? "1 AS __pgt_k0"
                : IntStream.range(0, groupKeys.size()).mapToObj(i -> groupKeys.get(i) + " AS __pgt_k" + (i + 1))
                        .collect(Collectors.joining(", "));
        List<String> terms = new ArrayList<>(weightedTerms(ctx, projection, false));
        if (outputSubqueries.stream().anyMatch(s -> ctx.changedAny(s.relids()))) {
            // HAVING or an output depends on a subquery that changed: every group may have changed.
            terms.add("SELECT " + projection + " FROM " + from.render(FromItem::current) + (where == null ? "" : " WHERE " + where));
        }
        return String.join("\nUNION\n", terms);
    }

    /**
     * The grouped query restricted to the groups in {@code keys}, with {@code __pgt_h}: the
     * groups without a NULL key by an IN semi-join (index- and hash-friendly), those with a NULL
     * key by IS NOT DISTINCT FROM — a branch PostgreSQL skips when no key holds a NULL.
     */
    String recompute(String keys, Function<FromItem, String> render, List<String> outputs, String filter,
                     String havingCondition, boolean withHash) {
        String head = selectHead() + selectList(outputs) + (withHash ? ", " + groupHash() + " AS __pgt_h" : "")
                + " FROM " + from.render(render);
        if (groupKeys.isEmpty()) {
            return head + clauses(filter, havingCondition, "");
        }
        List<String> restrictions = keyRestrictions(keys);
        return "(" + head + clauses(filter, havingCondition, restrictions.get(0)) + ")\nUNION ALL\n(" + head
                + clauses(filter, havingCondition, restrictions.get(1)) + ")";
    }

    /**
     * The two conditions that keep the source rows of the groups in {@code keys} (columns
     * __pgt_k1 …): those without a NULL key by an IN semi-join, those with one by IS NOT DISTINCT
     * FROM, behind a one-time check that some key holds a NULL.
     */
    List<String> keyRestrictions(String keys) {
        String exprs = groupKeys.stream().map(k -> "(" + k + ")").collect(Collectors.joining(", "));
        String keyCols = IntStream.rangeClosed(1, groupKeys.size()).mapToObj(i -> "__pgt_k" + i).collect(Collectors.joining(", "));
        String nonNull = "(" + exprs + ") IN (SELECT " + keyCols + " FROM " + keys + ")";
        String anyNullExpr = groupKeys.stream().map(k -> "(" + k + ") IS NULL").collect(Collectors.joining(" OR "));
        String anyNullKey = IntStream.rangeClosed(1, groupKeys.size()).mapToObj(i -> "__pgt_k" + i + " IS NULL")
                .collect(Collectors.joining(" OR "));
        String match = IntStream.range(0, groupKeys.size())
                .mapToObj(i -> "__pgt_kn.__pgt_k" + (i + 1) + " IS NOT DISTINCT FROM (" + groupKeys.get(i) + ")")
                .collect(Collectors.joining(" AND "));
        String withNull = "(" + anyNullExpr + ") AND EXISTS (SELECT 1 FROM " + keys + " WHERE " + anyNullKey + ")"
                + " AND EXISTS (SELECT 1 FROM " + keys + " __pgt_kn WHERE " + match + ")";
        return List.of(nonNull, withNull);
    }

    /** The hash of a touched group's key, over the keys table's columns. */
    String keyHash(String alias) {
        return "md5(row(" + IntStream.range(0, groupKeys.size()).mapToObj(i -> alias + ".__pgt_k" + (i + 1))
                .collect(Collectors.joining(", ")) + ")::text)::uuid";
    }
}
