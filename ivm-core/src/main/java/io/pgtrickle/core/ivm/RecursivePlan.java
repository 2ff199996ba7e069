package io.pgtrickle.core.ivm;

import io.pgtrickle.core.capture.RowDecoder;
import io.pgtrickle.core.sql.Identifiers;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

/**
 * {@code WITH RECURSIVE r AS (base UNION [ALL] SELECT … FROM e JOIN r ON …) SELECT <r's columns> FROM r}:
 * the stream table holds r, and a refresh changes only the part of it the window reaches,
 * delete-and-rederive style (DESIGN §2.2), with the iteration left to PostgreSQL's own recursion.
 *
 * <ol>
 *   <li><b>Over-delete</b> S: the stored rows that had a derivation using a deleted fact — rows the
 *       base term no longer returns, rows derived in one step from a deleted row of e, and, closed
 *       under the recursive term over e as it was, everything derived from those. Every stored row
 *       outside S (call them K) still holds, with the same derivations.</li>
 *   <li><b>Re-derive and insert</b> N: starting from (a) the rows of S the base term still returns,
 *       (b) the rows of S one step derives from K with e as it is now, (c) new rows of the base
 *       term outside S, and (d) rows derived in one step from K and an inserted row of e, outside
 *       S; then closed under the recursive term over e now. Under UNION ALL every derivation
 *       counts, so N holds one row per new derivation; under UNION, N leaves out rows of K.</li>
 *   <li>The delta is N with weight +1 and every stored row of S with −1; rows in both cancel.</li>
 * </ol>
 *
 * Work follows S and N: the closures start from the window's rows and follow e's join from there;
 * stored rows are found by their content hash ({@code __pgt_h}, indexed), never scanned for S.
 * Seeds (b) and (d) join e with K; when the window does not touch e, (b) is skipped unless S has rows.
 *
 * @param query      the whole query, for a FULL refresh
 * @param base       the non-recursive term
 * @param table      e, the table the recursive term joins with the CTE
 * @param from       the recursive term's FROM with placeholders for the CTE and e
 * @param items      the recursive term's select list (SQL), in CTE column order
 * @param where      its WHERE, or null
 * @param set        UNION (rows are distinct) rather than UNION ALL
 * @param columns    the CTE's column names
 * @param types      their PostgreSQL types
 * @param storedToCte for each stream-table column, the CTE column it holds
 */
public record RecursivePlan(String query, IvmPlan base, BaseTable table, String from, List<String> items, String where,
                            boolean set, List<String> columns, List<String> types, List<Integer> storedToCte,
                            List<String> names) implements IvmPlan {

    @Override
    public Set<Long> relids() {
        Set<Long> r = new HashSet<>(base.relids());
        r.add(table.relid());
        return Set.copyOf(r);
    }

    @Override
    public Map<Long, RowDecoder> decoders() {
        Map<Long, RowDecoder> d = new HashMap<>(base.decoders());
        d.put(table.relid(), table.decoder());
        return Map.copyOf(d);
    }

    @Override
    public String currentSql() {
        return query;
    }

    private String columnList() {
        return columns.stream().map(Identifiers::quote).collect(Collectors.joining(", "));
    }

    /** Row {@code q}'s content hash, as the stream table stores it (stream-table column order). */
    private String hash(String q) {
        return hashOf(storedToCte.stream().map(i -> q + "." + Identifiers.quote(columns.get(i))).toList());
    }

    private String hashOf(List<String> storedOrder) {
        return "md5(row(" + String.join(", ", storedOrder) + ")::text)::uuid";
    }

    /** {@code q}'s CTE columns cast to their types, as a select list. */
    private String typed(String q) {
        return IntStream.range(0, columns.size()).mapToObj(i -> "CAST(" + q + "." + Identifiers.quote(columns.get(i)) + " AS "
                + types.get(i) + ") AS " + Identifiers.quote(columns.get(i))).collect(Collectors.joining(", "));
    }

    /** The stream table's rows with the CTE's column names. */
    private String stored(String target, String where) {
        String cols = IntStream.range(0, storedToCte.size()).mapToObj(j -> "__pgt_t." + Identifiers.quote(names.get(j))
                + " AS " + Identifiers.quote(columns.get(storedToCte.get(j)))).collect(Collectors.joining(", "));
        return "(SELECT " + cols + " FROM " + target + " __pgt_t" + (where == null ? "" : " WHERE " + where) + ")";
    }

    /**
     * The recursive term with the CTE read from {@code cte} and e from {@code edge} (relations or
     * names), outputs cast to the CTE's types; {@code condition} maps the output's content hash
     * to a further condition on it (or null).
     */
    private String step(String cte, String edge, Function<String, String> condition) {
        String source = from.replaceAll("\"?" + RecursiveCte.Step.CTE_PLACEHOLDER + "\"?", java.util.regex.Matcher.quoteReplacement(cte))
                .replaceAll("\"?" + RecursiveCte.Step.TABLE_PLACEHOLDER + "\"?", java.util.regex.Matcher.quoteReplacement(edge));
        List<String> casts = IntStream.range(0, items.size()).mapToObj(i -> "CAST(" + items.get(i) + " AS " + types.get(i) + ")")
                .toList();
        String select = IntStream.range(0, casts.size()).mapToObj(i -> casts.get(i) + " AS " + Identifiers.quote(columns.get(i)))
                .collect(Collectors.joining(", "));
        List<String> conditions = new ArrayList<>();
        if (where != null) {
            conditions.add("(" + where + ")");
        }
        String extra = condition == null ? null : condition.apply(hashOf(storedToCte.stream().map(casts::get).toList()));
        if (extra != null) {
            conditions.add(extra);
        }
        return "SELECT " + select + " FROM " + source + (conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions));
    }

    @Override
    public String delta(DeltaContext ctx) {
        String baseDelta = base.delta(ctx);
        boolean edgeChanged = ctx.changed(table.relid());
        if (baseDelta == null && !edgeChanged) {
            return null;
        }
        String target = ctx.target();
        String cols = columnList();
        String edgeNow = table.name().quoted();
        String edgeBefore = edgeChanged ? ctx.old(table) : edgeNow;
        String net = edgeChanged ? ctx.net(table) : null;
        String inTarget = "EXISTS (SELECT 1 FROM " + target + " __pgt_t WHERE __pgt_t.__pgt_h = %s)";

        // 1. Over-delete: S, the stored rows some derivation of which used a deleted fact.
        List<String> deleted = new ArrayList<>();
        if (baseDelta != null) {
            deleted.add("SELECT " + typed("__pgt_bd") + " FROM (" + baseDelta + ") AS __pgt_bd(" + cols + ", __pgt_w)"
                    + " WHERE __pgt_bd.__pgt_w < 0");
        }
        if (edgeChanged) {
            deleted.add(step(stored(target, null), "(SELECT " + table.columnList(null) + " FROM " + net
                    + " WHERE __pgt_n < 0)", null));
        }
        String s = ctx.cte("__pgt_rec_s", "WITH RECURSIVE __pgt_rs(" + cols + ") AS (\n  SELECT * FROM (" + String.join(
                "\n  UNION ALL ", deleted) + ") __pgt_seed\n  UNION\n  " + step("__pgt_rs", edgeBefore, null) + "\n)"
                + " SELECT __pgt_rs.*, " + hash("__pgt_rs") + " AS __pgt_h FROM __pgt_rs WHERE "
                + inTarget.formatted(hash("__pgt_rs")));
        String inS = "%s IN (SELECT __pgt_h FROM " + s + ")";
        String anyS = "EXISTS (SELECT 1 FROM " + s + ")";
        String kept = stored(target, "__pgt_t.__pgt_h NOT IN (SELECT __pgt_h FROM " + s + ")");

        // 2. Re-derive what still holds of S, derive what is new, and close both under the recursive term.
        List<String> seeds = new ArrayList<>();
        seeds.add("SELECT * FROM (SELECT " + typed("__pgt_b") + " FROM (" + base.currentSql() + ") AS __pgt_b(" + cols + ")"
                + " WHERE " + anyS + ") __pgt_b WHERE " + inS.formatted(hash("__pgt_b")));
        seeds.add(step(kept, edgeNow, h -> anyS + " AND " + inS.formatted(h)));
        String outsideK = set ? " AND NOT " + inTarget : "";
        if (baseDelta != null) {
            seeds.add("SELECT " + typed("__pgt_bd") + " FROM (" + baseDelta + ") AS __pgt_bd(" + cols + ", __pgt_w),"
                    + " generate_series(1, __pgt_bd.__pgt_w) WHERE __pgt_bd.__pgt_w > 0 AND NOT "
                    + inS.formatted(hash("__pgt_bd")) + outsideK.formatted(hash("__pgt_bd")));
        }
        if (edgeChanged) {
            seeds.add(step(kept, "(SELECT " + table.columnList(null) + " FROM " + net + ", generate_series(1, __pgt_n)"
                    + " WHERE __pgt_n > 0)", h -> "NOT " + inS.formatted(h) + outsideK.formatted(h)));
        }
        String recursive = set
                ? step("__pgt_rn", edgeNow, h -> "NOT (" + inTarget.formatted(h) + " AND NOT " + inS.formatted(h) + ")")
                : step("__pgt_rn", edgeNow, null);
        String n = ctx.cte("__pgt_rec_n", "WITH RECURSIVE __pgt_rn(" + cols + ") AS (\n  SELECT * FROM ("
                + String.join("\n  UNION ALL ", seeds) + ") __pgt_seed\n  " + (set ? "UNION" : "UNION ALL") + "\n  "
                + recursive + "\n) SELECT * FROM __pgt_rn");

        String out = IntStream.range(0, storedToCte.size()).mapToObj(j -> Identifiers.quote(columns.get(storedToCte.get(j)))
                + " AS " + Identifiers.quote(names.get(j))).collect(Collectors.joining(", "));
        String storedCols = names.stream().map(Identifiers::quote).collect(Collectors.joining(", "));
        return "SELECT " + out + ", 1 AS __pgt_w FROM " + n + "\nUNION ALL SELECT " + storedCols + ", -1 FROM " + target
                + " WHERE __pgt_h IN (SELECT __pgt_h FROM " + s + ")";
    }

    @Override
    public String strategy() {
        return "recursive CTE (" + (set ? "UNION" : "UNION ALL") + ", recursive term joins " + table.name()
                + ")  [delete and re-derive: over-delete the rows derived from deleted facts, re-derive them and the"
                + " new rows, both closed by the recursive term from the window's rows]\n" + base.strategy();
    }

    @Override
    public String deltaSqlForExplain() {
        DeltaContext ctx = DeltaContext.allChanged(relids());
        String delta = delta(ctx);
        return ctx.setupSql() + ctx.wrap(delta);
    }
}
