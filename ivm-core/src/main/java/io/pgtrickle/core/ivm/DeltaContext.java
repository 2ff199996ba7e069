package io.pgtrickle.core.ivm;

import io.pgtrickle.core.capture.ChangeWindow;
import io.pgtrickle.core.capture.RowDecoder;
import io.pgtrickle.core.sql.Identifiers;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * What one refresh knows while it writes delta SQL: the change window of each source that has
 * changes, and the common table expressions the delta needs (the state of a table before the
 * window, a set of touched keys), emitted once at the head of the statement.
 */
public final class DeltaContext {
    private final Map<Long, String> windows;
    private final Map<String, String> ctes = new LinkedHashMap<>();
    private final java.util.Set<String> inlined = new java.util.HashSet<>();
    private int counter;

    /** @param windows the window table (in pg_temp) of every source with changes, by relid */
    public DeltaContext(Map<Long, String> windows) {
        this.windows = Map.copyOf(windows);
    }

    /** A context in which every table of {@code relids} changed, to show delta SQL. */
    static DeltaContext allChanged(java.util.Set<Long> relids) {
        Map<Long, String> w = new java.util.HashMap<>();
        relids.forEach(r -> w.put(r, "__pgt_window_" + r));
        return new DeltaContext(w);
    }

    boolean changed(long relid) {
        return windows.containsKey(relid);
    }

    boolean changedAny(Collection<Long> relids) {
        return relids.stream().anyMatch(windows::containsKey);
    }

    /**
     * The window's changes of {@code table} in its row type, with their weights ({@code __pgt_w}):
     * the window part decoded by {@link ChangeWindow.Part#decode}.
     */
    String changes(BaseTable table) {
        return "SELECT * FROM pg_temp." + Identifiers.quote(ChangeWindow.rowsTable(windows.get(table.relid())));
    }

    /**
     * The name of a CTE holding {@code table} exactly as it was at the previous frontier, as a
     * multiset. With a primary key: the rows now whose key the window did not change, plus the
     * images the window removed (its net per row content) — conditions on the table reach its
     * indexes. Without one: now, plus what the window deleted, minus what it inserted (EXCEPT ALL).
     */
    String old(BaseTable table) {
        String name = "__pgt_old_" + table.relid();
        if (ctes.containsKey(name)) {
            return name;
        }
        String window = "pg_temp." + Identifiers.quote(windows.get(table.relid()));
        String type = table.name().quoted();
        RowDecoder decoder = table.decoder();
        String body;
        if (!table.primaryKey().isEmpty()) {
            String net = cte("__pgt_net_" + table.relid(), "SELECT " + decoder.selectList("__pgt_r", "__pgt_c.row")
                    + ", __pgt_c.__pgt_n FROM (SELECT row, sum(weight) AS __pgt_n FROM " + window + " WHERE weight <> 0"
                    + " GROUP BY row HAVING sum(weight) <> 0) __pgt_c, " + decoder.from("__pgt_c.row", "__pgt_r"));
            String key = table.primaryKey().stream().map(Identifiers::quote).collect(java.util.stream.Collectors.joining(", "));
            body = "SELECT " + table.columnList(null) + " FROM " + type + " WHERE (" + key + ") NOT IN (SELECT " + key
                    + " FROM " + net + ") UNION ALL SELECT " + table.columnList(null) + " FROM " + net + ", generate_series(1,"
                    + " -__pgt_n) WHERE __pgt_n < 0";
        } else {
            String images = "SELECT " + decoder.selectList("__pgt_r", "__pgt_c.row") + " FROM " + window + " __pgt_c, "
                    + decoder.from("__pgt_c.row", "__pgt_r") + " WHERE __pgt_c.weight ";
            body = "SELECT " + table.columnList(null) + " FROM " + type + " UNION ALL " + images + "< 0 EXCEPT ALL "
                    + images + "> 0";
        }
        ctes.put(name, body);
        inlined.add(name); // let PostgreSQL push the caller's conditions into it
        return name;
    }

    /** Registers a materialized CTE named after {@code prefix}; returns its name. */
    String cte(String prefix, String sql) {
        String name = prefix + "_" + (++counter);
        ctes.put(name, sql);
        return name;
    }

    /** {@code select} preceded by the WITH clause of every CTE registered so far. */
    public String wrap(String select) {
        if (ctes.isEmpty()) {
            return select;
        }
        StringBuilder s = new StringBuilder("WITH ");
        boolean first = true;
        for (var e : ctes.entrySet()) {
            s.append(first ? "" : ",\n").append(e.getKey()).append(inlined.contains(e.getKey()) ? " AS NOT MATERIALIZED (\n" : " AS MATERIALIZED (\n").append(e.getValue()).append("\n)");
            first = false;
        }
        return s.append('\n').append(select).toString();
    }
}
