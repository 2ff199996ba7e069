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
    private final java.util.List<String> setup = new java.util.ArrayList<>();
    private final java.util.Set<String> netTables = new java.util.HashSet<>();
    private final java.util.Set<String> indexes = new java.util.HashSet<>();
    private int prepared;

    private final String target;
    private final ClockMove clock;

    /** @param windows the window table (in pg_temp) of every source with changes, by relid */
    public DeltaContext(Map<Long, String> windows) {
        this(windows, "__pgt_stream_table");
    }

    /** @param target the quoted storage table of the stream table being refreshed */
    public DeltaContext(Map<Long, String> windows, String target) {
        this(windows, target, null);
    }

    /** @param clock how the clock moved since the previous refresh (a {@link ClockFilter}'s plan), or null */
    public DeltaContext(Map<Long, String> windows, String target, ClockMove clock) {
        this.windows = Map.copyOf(windows);
        this.target = target;
        this.clock = clock;
    }

    /** The clock's move since the previous refresh, or null when it did not move or the plan does not read it. */
    ClockMove clock() {
        return clock == null || clock.still() ? null : clock;
    }

    /** The stream table being refreshed, for plans whose delta reads what it holds (top-k). */
    String target() {
        return target;
    }

    /** A context in which every table of {@code relids} changed, to show delta SQL. */
    static DeltaContext allChanged(java.util.Set<Long> relids) {
        return allChanged(relids, null);
    }

    /** {@link #allChanged(java.util.Set)} with the clock moved as {@code clock} (symbolic, for explain), or null. */
    static DeltaContext allChanged(java.util.Set<Long> relids, ClockMove clock) {
        Map<Long, String> w = new java.util.HashMap<>();
        relids.forEach(r -> w.put(r, "__pgt_window_" + r));
        return new DeltaContext(w, "__pgt_stream_table", clock);
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
     * {@link #changes} of a table that a correlated condition looks up by {@code columns}, once per
     * outer row: {@link #prepare} gives the window's typed rows an index on each of them, so that
     * a lookup reads the few matching changes instead of all of them.
     */
    String probedChanges(BaseTable table, java.util.Collection<String> columns) {
        String rows = ChangeWindow.rowsTable(windows.get(table.relid()));
        for (String column : columns) {
            String index = rows + "_" + NameHash.of(column, 12);
            if (indexes.add(index)) {
                setup.add(optionalIndex(index, "pg_temp." + Identifiers.quote(rows), column));
            }
        }
        return changes(table);
    }

    /**
     * An index on one column that is only an optimization: a type without a default btree operator
     * class (box has {@code =} but no ordering, a domain or extension type may lack one) leaves the
     * table without it instead of failing the refresh.
     */
    private static String optionalIndex(String index, String table, String column) {
        return "DO $pgt$ BEGIN CREATE INDEX IF NOT EXISTS " + Identifiers.quote(index) + " ON " + table + " ("
                + Identifiers.quote(column) + "); EXCEPTION WHEN undefined_object OR feature_not_supported THEN NULL; END $pgt$";
    }

    /**
     * The name of a CTE holding {@code table} exactly as it was at the previous frontier, as a
     * multiset. With a primary key: the rows now whose key the window did not change, plus the
     * images the window removed (its net per row content, a temporary table indexed on the key,
     * see {@link #netTable}) — conditions on the table reach its indexes, and those on the key
     * reach the net table's. Without one: now, plus what the window deleted, minus what it
     * inserted (EXCEPT ALL).
     */
    String old(BaseTable table) {
        return old(table, java.util.Set.of());
    }

    /**
     * {@link #old(BaseTable)} for a reader that looks the table up by {@code probed} columns (a
     * correlated subquery): the net table gets an index on each of them too.
     */
    String old(BaseTable table, java.util.Set<String> probed) {
        String name = "__pgt_old_" + table.relid();
        if (!table.primaryKey().isEmpty()) {
            String net = netTable(table);
            for (String column : probed) {
                String index = windows.get(table.relid()) + "_net_" + NameHash.of(column, 12);
                if (!table.primaryKey().get(0).equals(column) && indexes.add(index)) {
                    setup.add(optionalIndex(index, net, column));
                }
            }
        }
        if (ctes.containsKey(name)) {
            return name;
        }
        String window = "pg_temp." + Identifiers.quote(windows.get(table.relid()));
        String type = table.name().quoted();
        RowDecoder decoder = table.decoder();
        String body;
        if (!table.primaryKey().isEmpty()) {
            String net = netTable(table);
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

    /**
     * The net change per row content of {@code table}'s window (its columns and {@code __pgt_n},
     * the summed weight, never 0), as a temporary table with an index on the primary key, made by
     * {@link #prepare} before the statement runs. A materialized CTE would do for a statement that
     * reads it once; but a correlated subquery over the table as it was (q18's, q20's, q21's) reads
     * it once per outer row, with a condition on the key, and a CTE has no index: every evaluation
     * scanned all of the net change. One per window: its name follows the window's, and a second
     * plan in the same transaction finds it made.
     */
    private String netTable(BaseTable table) {
        String window = windows.get(table.relid());
        String net = Identifiers.quote(window + "_net");
        String qualified = "pg_temp." + net;
        if (netTables.add(qualified)) {
            RowDecoder decoder = table.decoder();
            String key = table.primaryKey().stream().map(Identifiers::quote).collect(java.util.stream.Collectors.joining(", "));
            setup.add("CREATE TEMP TABLE IF NOT EXISTS " + net + " ON COMMIT DROP AS SELECT "
                    + decoder.selectList("__pgt_r", "__pgt_c.row") + ", __pgt_c.__pgt_n FROM (SELECT row, sum(weight) AS __pgt_n"
                    + " FROM pg_temp." + Identifiers.quote(window) + " WHERE weight <> 0 GROUP BY row HAVING sum(weight) <> 0)"
                    + " __pgt_c, " + decoder.from("__pgt_c.row", "__pgt_r"));
            setup.add("CREATE INDEX IF NOT EXISTS " + Identifiers.quote(window + "_net_key") + " ON " + qualified + " (" + key + ")");
            // as for the window's rows (ChangeWindow.Part#decode): a small sample shows the size and the keys' spread
            setup.add("SET LOCAL default_statistics_target = 10; ANALYZE " + qualified
                    + "; SET LOCAL default_statistics_target TO DEFAULT");
        }
        return qualified;
    }

    /**
     * The net change per row content of {@code table}'s window: its columns and {@code __pgt_n}
     * (never 0) — rows inserted and deleted within the window cancel, so a positive row is in the
     * table now and was not before, and a negative one the reverse.
     */
    String net(BaseTable table) {
        if (!table.primaryKey().isEmpty()) {
            return netTable(table);
        }
        String name = "__pgt_net_" + table.relid();
        if (!ctes.containsKey(name)) {
            RowDecoder decoder = table.decoder();
            ctes.put(name, "SELECT " + decoder.selectList("__pgt_r", "__pgt_c.row") + ", __pgt_c.__pgt_n FROM (SELECT row,"
                    + " sum(weight) AS __pgt_n FROM pg_temp." + Identifiers.quote(windows.get(table.relid()))
                    + " WHERE weight <> 0 GROUP BY row HAVING sum(weight) <> 0) __pgt_c, " + decoder.from("__pgt_c.row", "__pgt_r"));
        }
        return name;
    }

    /**
     * Runs, once each, the statements the SQL written so far needs to have run before it (the
     * temporary tables of {@link #netTable}). Call it before executing any statement built with
     * this context.
     */
    public void prepare(java.sql.Connection c) throws java.sql.SQLException {
        prepare(io.pgtrickle.core.sql.SqlRunner.jdbc(c));
    }

    /** {@link #prepare(java.sql.Connection)} through a runner (which may write the statements down instead). */
    public void prepare(io.pgtrickle.core.sql.SqlRunner c) throws java.sql.SQLException {
        if (prepared < setup.size()) {
            // One round trip for all of them: the driver sends a multi-statement string at once.
            c.execute(String.join(";\n", setup.subList(prepared, setup.size())));
            prepared = setup.size();
        }
    }

    /** The statements {@link #prepare} runs, as SQL text ending in semicolons (for explain), or "". */
    String setupSql() {
        return setup.stream().map(st -> st + ";\n").collect(java.util.stream.Collectors.joining());
    }

    /**
     * Adds a statement for {@link #prepare} to run before the delta: it may read the CTEs
     * registered so far through {@link #wrap}. Used to stage intermediate results in temporary
     * tables whose statistics the planner then sees.
     */
    void setup(String statement) {
        setup.add(statement);
    }

    /** A name, unique within this context, for a temporary table of one refresh. */
    String tempName(String prefix) {
        return prefix + "_" + (++counter);
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
