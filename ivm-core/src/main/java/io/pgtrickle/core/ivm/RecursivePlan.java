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
 *       under the recursive term over e (now, kept to stored rows), everything derived from those.
 *       S may hold more than that (rows derived through an inserted row of e), which is safe: they
 *       are re-derived. Every stored row outside S (call them K) still holds, with the same
 *       derivations.</li>
 *   <li><b>Re-derive and insert</b> N: starting from (a) the rows of S the base term still returns,
 *       (b) the rows of S one step derives from K with e as it is now, (c) new rows of the base
 *       term outside S, and (d) rows derived in one step from K and an inserted row of e, outside
 *       S; then closed under the recursive term over e now. Under UNION ALL every derivation
 *       counts, so N holds one row per new derivation; under UNION, N leaves out rows of K.</li>
 *   <li>The delta is N with weight +1 and every stored row of S with −1; rows in both cancel.</li>
 * </ol>
 *
 * Work follows S and N: the closures start from the window's rows and follow e's join from there;
 * stored rows are found by their content hash ({@code __pgt_h}, indexed) or by the join column
 * (indexed by the first refresh), and e by its own indexes. Each stage is a temporary table with
 * statistics, so each next statement is planned for the sizes it really reads.
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
 * @param tableColumnItems the recursive term's outputs that are plain columns of e: a row to
 *                   re-derive is looked up in e by them
 * @param indexedColumns the stream-table columns the recursive term joins e on: indexed (once,
 *                   by the first refresh that needs it) so the closures reach the stored rows by
 *                   lookups, not scans
 * @param indexedLookup whether an index of e leads with a column the recursive term joins on: the
 *                   closures then look e up by it, row by row of each iteration, instead of
 *                   hashing all of e once per iteration as PostgreSQL's estimate of a recursive
 *                   term's input (ten times the seeds) often makes it choose
 */
public record RecursivePlan(String query, IvmPlan base, BaseTable table, String from, List<String> items, String where,
                            boolean set, List<String> columns, List<String> types, List<Integer> storedToCte,
                            List<String> names, List<Integer> tableColumnItems, List<String> indexedColumns,
                            boolean indexedLookup) implements IvmPlan {

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
        String net = edgeChanged ? ctx.net(table) : null;
        String inTarget = "EXISTS (SELECT 1 FROM " + target + " __pgt_t WHERE __pgt_t.__pgt_h = %s)";
        if (!indexedColumns.isEmpty()) {
            ctx.setup("CREATE INDEX IF NOT EXISTS " + Identifiers.quote("__pgt_rec_" + NameHash.of(target + indexedColumns, 12))
                    + " ON " + target + " (" + indexedColumns.stream().map(Identifiers::quote).collect(Collectors.joining(", ")) + ")");
        }

        if (baseDelta != null) {
            // net per row: a row inserted and deleted again within the window (a row updated twice)
            // must neither seed S nor count as new
            baseDelta = "SELECT * FROM " + stage(ctx, "__pgt_rec_bd", "SELECT * FROM (SELECT DISTINCT ON (__pgt_x.__pgt_bh) " + IntStream.range(0,
                    columns.size()).mapToObj(i -> "__pgt_x." + Identifiers.quote(columns.get(i))).collect(Collectors.joining(", "))
                    + ", sum(__pgt_x.__pgt_w) OVER (PARTITION BY __pgt_x.__pgt_bh) AS __pgt_w FROM (SELECT __pgt_bd.*, "
                    + hash("__pgt_bd") + " AS __pgt_bh FROM (" + baseDelta + ") AS __pgt_bd(" + cols + ", __pgt_w)) __pgt_x)"
                    + " __pgt_y WHERE __pgt_w <> 0", false);
        }

        // 1. Over-delete: S, the stored rows some derivation of which used a deleted fact. Its closure
        // follows e as it is now, kept to stored rows: a link that was deleted starts a derivation of
        // its own in the seeds (joined with every stored row), so e before the window is not needed,
        // and e now is a table PostgreSQL can look up by index in each iteration.
        List<String> deleted = new ArrayList<>();
        if (baseDelta != null) {
            deleted.add("SELECT " + typed("__pgt_bd") + " FROM (" + baseDelta + ") AS __pgt_bd(" + cols + ", __pgt_w)"
                    + " WHERE __pgt_bd.__pgt_w < 0");
        }
        if (edgeChanged) {
            deleted.add(step(stored(target, null), "(SELECT " + table.columnList(null) + " FROM " + net
                    + " WHERE __pgt_n < 0)", null));
        }
        String sSeeds = stage(ctx, "__pgt_rec_sd", String.join("\nUNION ALL ", deleted), false);
        String s = stage(ctx, "__pgt_rec_s", "WITH RECURSIVE __pgt_rs(" + cols + ") AS (\n  SELECT * FROM " + sSeeds
                + "\n  UNION\n  " + step("__pgt_rs", edgeNow, h -> fill(inTarget, h)) + "\n) SELECT __pgt_rs.*, " + hash("__pgt_rs")
                + " AS __pgt_h FROM __pgt_rs WHERE " + fill(inTarget, hash("__pgt_rs")), indexedLookup);
        ctx.setup("CREATE INDEX ON " + s + " (__pgt_h)");
        String inS = "%s IN (SELECT __pgt_h FROM " + s + ")";
        String anyS = "EXISTS (SELECT 1 FROM " + s + ")";
        String kept = stored(target, "__pgt_t.__pgt_h NOT IN (SELECT __pgt_h FROM " + s + ")");

        // 2. Re-derive what still holds of S, derive what is new, and close both under the recursive term.
        List<String> seeds = new ArrayList<>();
        seeds.add("SELECT * FROM (SELECT " + typed("__pgt_b") + " FROM (" + base.currentSql() + ") AS __pgt_b(" + cols + ")"
                + " WHERE " + anyS + ") __pgt_b WHERE " + fill(inS, hash("__pgt_b")));
        seeds.add(step(kept, edgeNow, h -> anyS + rederivable(s) + " AND " + fill(inS, h)));
        String outsideK = set ? " AND NOT " + inTarget : "";
        if (baseDelta != null) {
            seeds.add("SELECT " + typed("__pgt_bd") + " FROM (" + baseDelta + ") AS __pgt_bd(" + cols + ", __pgt_w),"
                    + " generate_series(1, __pgt_bd.__pgt_w) WHERE __pgt_bd.__pgt_w > 0 AND NOT "
                    + fill(inS, hash("__pgt_bd")) + fill(outsideK, hash("__pgt_bd")));
        }
        if (edgeChanged) {
            seeds.add(step(kept, "(SELECT " + table.columnList(null) + " FROM " + net + ", generate_series(1, __pgt_n)"
                    + " WHERE __pgt_n > 0)", h -> "NOT " + fill(inS, h) + fill(outsideK, h)));
        }
        String nSeeds = stage(ctx, "__pgt_rec_nd", String.join("\nUNION ALL ", seeds), false);
        String recursive = set
                ? step("__pgt_rn", edgeNow, h -> "NOT (" + fill(inTarget, h) + " AND NOT " + fill(inS, h) + ")")
                : step("__pgt_rn", edgeNow, null);
        String n = stage(ctx, "__pgt_rec_n", "WITH RECURSIVE __pgt_rn(" + cols + ") AS (\n  SELECT * FROM " + nSeeds + "\n  "
                + (set ? "UNION" : "UNION ALL") + "\n  " + recursive + "\n) SELECT * FROM __pgt_rn", indexedLookup);

        String out = IntStream.range(0, storedToCte.size()).mapToObj(j -> Identifiers.quote(columns.get(storedToCte.get(j)))
                + " AS " + Identifiers.quote(names.get(j))).collect(Collectors.joining(", "));
        String storedCols = names.stream().map(Identifiers::quote).collect(Collectors.joining(", "));
        return "SELECT " + out + ", 1 AS __pgt_w FROM " + n + "\nUNION ALL SELECT " + storedCols + ", -1 FROM " + target
                + " WHERE __pgt_h IN (SELECT __pgt_h FROM " + s + ")";
    }

    private static String fill(String template, String value) {
        return template.replace("%s", value);
    }

    /**
     * Stages {@code select} in a temporary table before the delta runs, with statistics: the
     * closures then start from a relation whose size the planner knows (a recursive term's input
     * is otherwise estimated from the seeds' guess), and look e up by index for a few rows.
     */
    private static String stage(DeltaContext ctx, String prefix, String select, boolean nestedLoops) {
        String name = ctx.tempName(prefix);
        ctx.setup("DROP TABLE IF EXISTS pg_temp." + name);
        String create = "CREATE TEMP TABLE " + name + " ON COMMIT DROP AS " + ctx.wrap("SELECT * FROM (" + select + ") __pgt_q");
        ctx.setup(nestedLoops ? "SET LOCAL enable_hashjoin = off; SET LOCAL enable_mergejoin = off; " + create
                + "; SET LOCAL enable_hashjoin TO DEFAULT; SET LOCAL enable_mergejoin TO DEFAULT" : create);
        ctx.setup("ANALYZE pg_temp." + name);
        return "pg_temp." + name;
    }

    /**
     * A condition on the recursive term's e row that its outputs taken from e's columns match a
     * row of S, so that re-deriving S looks e up by those columns instead of joining all of it.
     */
    private String rederivable(String s) {
        if (tableColumnItems.isEmpty()) {
            return "";
        }
        return " AND (" + tableColumnItems.stream().map(items::get).collect(Collectors.joining(", ")) + ") IN (SELECT "
                + tableColumnItems.stream().map(i -> Identifiers.quote(columns.get(i))).collect(Collectors.joining(", "))
                + " FROM " + s + ")";
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
