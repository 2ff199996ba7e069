package io.pgtrickle.core.ivm;

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

    /** The window's changes of {@code table} in its row type, with their weights ({@code __pgt_w}). */
    String changes(BaseTable table) {
        return "SELECT (jsonb_populate_record(NULL::" + table.name().quoted() + ", __pgt_c.row)).*,"
                + " __pgt_c.weight::bigint AS __pgt_w FROM pg_temp." + Identifiers.quote(windows.get(table.relid()))
                + " __pgt_c WHERE __pgt_c.weight <> 0";
    }

    /**
     * The name of a CTE holding {@code table} exactly as it was at the previous frontier, as a
     * multiset: now, plus what the window deleted, minus what it inserted.
     */
    String old(BaseTable table) {
        String name = "__pgt_old_" + table.relid();
        if (!ctes.containsKey(name)) {
            String images = "SELECT (jsonb_populate_record(NULL::" + table.name().quoted() + ", __pgt_c.row)).* FROM pg_temp."
                    + Identifiers.quote(windows.get(table.relid())) + " __pgt_c WHERE __pgt_c.weight ";
            ctes.put(name, "SELECT " + table.columnList(null) + " FROM " + table.name().quoted()
                    + " UNION ALL " + images + "< 0 EXCEPT ALL " + images + "> 0");
            inlined.add(name); // let PostgreSQL push the caller's conditions into it
        }
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
