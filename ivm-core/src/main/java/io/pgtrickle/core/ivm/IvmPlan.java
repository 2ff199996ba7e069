package io.pgtrickle.core.ivm;

import io.pgtrickle.core.sql.Identifiers;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * A defining query compiled for differential maintenance: a select–project–join core (tables,
 * inner joins, a filter, output expressions), optionally grouped (GROUP BY, aggregates, DISTINCT).
 * Expressions are the user's own, unparsed for PostgreSQL, and always evaluated under the aliases
 * the query gives its tables — the delta queries only swap what those aliases stand for.
 *
 * @param from the tables and joins
 * @param items every table of the FROM clause, left to right
 * @param select output expressions (SQL), one per stream-table column
 * @param names the stream table's column names, in order
 * @param where the WHERE condition, or null
 * @param groupKeys group key expressions, when grouped (empty for one global group)
 * @param grouped whether the query aggregates or is DISTINCT
 * @param distinct SELECT DISTINCT
 * @param groupBy the GROUP BY clause text, or null
 * @param having the HAVING condition, or null
 */
public record IvmPlan(FromTree from, List<FromItem> items, List<String> select, List<String> names, String where,
                      List<String> groupKeys, boolean grouped, boolean distinct, String groupBy, String having) {

    /** The delta SQL as if every source had changes in its window, for explain. */
    public String deltaSqlForExplain() {
        Map<Long, String> all = new java.util.LinkedHashMap<>();
        items.forEach(i -> all.put(i.relid(), "__pgt_window_" + i.relid()));
        return grouped ? "-- groups touched:\n" + touchedKeys(all) + "\n-- recomputed:\n" + recomputeTouched("__pgt_keys")
                : outputDelta(all);
    }

    /** How a refresh maintains this plan, for explain. */
    public String strategy() {
        return grouped ? "group rescan: recompute only the groups the changes touch, MERGE the rows that differ"
                : "select-project-join delta: Σ over tables of (earlier tables as before, this table's changes,"
                        + " later tables as now), applied as a multiset";
    }

    private String selectList() {
        return IntStream.range(0, select.size())
                .mapToObj(i -> select.get(i) + " AS " + Identifiers.quote(names.get(i)))
                .collect(Collectors.joining(", "));
    }

    private String groupHash() {
        return "md5(row(" + String.join(", ", groupKeys) + ")::text)::uuid";
    }

    /**
     * The query a FULL refresh runs: the user columns and {@code __pgt_h}, or null when rows are
     * identified by their content (then FULL hashes the user's own query).
     */
    public String hashedFullQuery() {
        if (!grouped) {
            return null;
        }
        return "SELECT " + (distinct ? "DISTINCT " : "") + selectList() + ", " + groupHash() + " AS __pgt_h FROM "
                + from.render(FromItem::current) + clauses("");
    }

    private String clauses(String extraCondition) {
        StringBuilder s = new StringBuilder();
        String condition = where == null ? extraCondition
                : extraCondition.isEmpty() ? where : "(" + where + ") AND " + extraCondition;
        if (!condition.isEmpty()) {
            s.append(" WHERE ").append(condition);
        }
        if (groupBy != null) {
            s.append(" GROUP BY ").append(groupBy);
        }
        if (having != null) {
            s.append(" HAVING ").append(having);
        }
        return s.toString();
    }

    /**
     * The telescoping delta terms for tables with changes: for table i, tables before it as they
     * were, table i's changes, tables after it as they are. Each term selects {@code projection}
     * and, when {@code weighted}, the product of the weights as {@code __pgt_w}.
     *
     * @param windows window table per relid, for relids with changes
     */
    List<String> deltaTerms(Map<Long, String> windows, String projection, boolean weighted) {
        List<String> terms = new ArrayList<>();
        for (FromItem changed : items) {
            String window = windows.get(changed.relid());
            if (window == null) {
                continue;
            }
            String fromClause = from.render(item -> {
                String w = windows.get(item.relid());
                if (item.index() < changed.index()) {
                    return w == null ? item.current() : item.previous(w);
                }
                return item.index() == changed.index() ? item.delta(w) : item.current();
            }, changed.index());
            String weight = items.stream()
                    .filter(item -> item.index() < changed.index() && windows.containsKey(item.relid())
                            || item.index() == changed.index())
                    .map(item -> item.quotedAlias() + ".__pgt_w").collect(Collectors.joining(" * "));
            terms.add("SELECT " + projection + (weighted ? ", " + weight + " AS __pgt_w" : "") + " FROM " + fromClause
                    + (where == null ? "" : " WHERE " + where));
        }
        return terms;
    }

    /** The weighted delta of the output rows (select–project–join plans). */
    String outputDelta(Map<Long, String> windows) {
        return String.join("\nUNION ALL\n", deltaTerms(windows, selectList(), true));
    }

    /** The group keys the changes touch (grouped plans), as columns __pgt_k1 … */
    String touchedKeys(Map<Long, String> windows) {
        String projection = groupKeys.isEmpty() ? "1 AS __pgt_k0"
                : IntStream.range(0, groupKeys.size()).mapToObj(i -> groupKeys.get(i) + " AS __pgt_k" + (i + 1))
                        .collect(Collectors.joining(", "));
        return String.join("\nUNION\n", deltaTerms(windows, projection, false));
    }

    /** The grouped query restricted to the groups in {@code keysTable}, with {@code __pgt_h}. */
    String recomputeTouched(String keysTable) {
        String match = groupKeys.isEmpty() ? "true"
                : IntStream.range(0, groupKeys.size())
                        .mapToObj(i -> "__pgt_k.__pgt_k" + (i + 1) + " IS NOT DISTINCT FROM (" + groupKeys.get(i) + ")")
                        .collect(Collectors.joining(" AND "));
        return "SELECT " + (distinct ? "DISTINCT " : "") + selectList() + ", " + groupHash() + " AS __pgt_h FROM "
                + from.render(FromItem::current)
                + clauses("EXISTS (SELECT 1 FROM pg_temp." + keysTable + " __pgt_k WHERE " + match + ")");
    }

    /** The hash of a touched group's key, over the keys table's columns. */
    String keyHash(String alias) {
        return "md5(row(" + IntStream.range(0, groupKeys.size()).mapToObj(i -> alias + ".__pgt_k" + (i + 1))
                .collect(Collectors.joining(", ")) + ")::text)::uuid";
    }
}
