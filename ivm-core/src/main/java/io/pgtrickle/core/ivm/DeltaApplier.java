package io.pgtrickle.core.ivm;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.sql.ChangeSink;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.core.sql.ServerCapabilities;
import io.pgtrickle.core.sql.SqlRunner;
import io.pgtrickle.core.sql.StorageMerge;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/** Applies a compiled plan's delta for one change window to the storage table, in the refresh transaction. */
public final class DeltaApplier {
    private DeltaApplier() {
    }

    /**
     * @param windows the window table (in pg_temp) of every source with changes in this window
     * @param server decides the form of the MERGE into the storage table
     * @param sink where the rows the MERGE changes also go (the outbox), or {@code null}
     */
    public static StorageMerge.Counts apply(Connection c, QualifiedName table, long storageRelid, IvmPlan plan,
                               Map<Long, String> windows, ServerCapabilities server, ChangeSink sink)
            throws SQLException {
        return apply(c, table, storageRelid, plan, windows, null, server, sink);
    }

    /**
     * {@link #apply(Connection, QualifiedName, long, IvmPlan, Map, ServerCapabilities, ChangeSink)}
     * for a plan that reads the clock: {@code clock} is how it moved since the previous refresh
     * (null or still: no time delta), so rows that enter or leave the window apply too.
     */
    public static StorageMerge.Counts apply(Connection c, QualifiedName table, long storageRelid, IvmPlan plan,
                               Map<Long, String> windows, ClockMove clock, ServerCapabilities server, ChangeSink sink)
            throws SQLException {
        return apply(SqlRunner.jdbc(c), table, storageRelid, plan, windows, clock, server, sink);
    }

    /**
     * The same delta through {@code c}, a {@link SqlRunner}: run now, or written down as the body
     * of an IMMEDIATE trigger (the one set of delta rules serves both).
     */
    public static StorageMerge.Counts apply(SqlRunner c, QualifiedName table, long storageRelid, IvmPlan plan,
                               Map<Long, String> windows, ClockMove clock, ServerCapabilities server, ChangeSink sink)
            throws SQLException {
        if (windows.isEmpty() && (clock == null || clock.still())) {
            return new StorageMerge.Counts(0, 0, 0);
        }
        DeltaContext ctx = new DeltaContext(windows, table.quoted(), clock);
        if (plan instanceof SelectPlan select && select.aggregates() != null) {
            return applyAggregates(c, table, storageRelid, select, ctx, server, sink);
        }
        if (plan instanceof GroupingSetsPlan sets) {
            return applyGroupingSets(c, table, storageRelid, sets, ctx, server, sink);
        }
        return plan instanceof SelectPlan select && select.keyed() ? rescanGroups(c, table, select, ctx, server, sink)
                : applyMultiset(c, table, plan, ctx, server, sink);
    }

    /** Whether a differential refresh can run now (an algebraic plan needs its state table, built by FULL). */
    public static boolean ready(Connection c, long storageRelid, IvmPlan plan) throws SQLException {
        if (plan instanceof GroupingSetsPlan sets) {
            for (SelectPlan b : sets.branches()) {
                if (!b.aggregates().exists(c, storageRelid)) {
                    return false;
                }
            }
            return true;
        }
        return !(plan instanceof SelectPlan select && select.aggregates() != null)
                || select.aggregates().exists(c, storageRelid);
    }

    /** {@link #ready} as an SQL check to evaluate with others; {@code null} when the plan keeps no state. */
    public static io.pgtrickle.core.sql.SqlCheck readyCheck(long storageRelid, IvmPlan plan) {
        if (plan instanceof GroupingSetsPlan sets) {
            return io.pgtrickle.core.sql.SqlCheck.of(sets.branches().stream().map(b -> "to_regclass(?) IS NOT NULL")
                    .collect(Collectors.joining(" AND ")), sets.branches().stream()
                    .map(b -> (Object) b.aggregates().qualified(storageRelid)).toArray());
        }
        return plan instanceof SelectPlan select && select.aggregates() != null
                ? io.pgtrickle.core.sql.SqlCheck.of("to_regclass(?) IS NOT NULL", select.aggregates().qualified(storageRelid))
                : null;
    }

    /**
     * Before a FULL refresh: rebuilds what an algebraic plan keeps besides the rows, and returns the
     * query (with {@code __pgt_h}) the refresh takes its rows from. With an aggregate state that is
     * the state's output, so the sources are read once, not once for the rows and again for the
     * state; otherwise the plan's hashed query, or {@code null} to hash the rows' content.
     */
    public static String beforeFullRefresh(Connection c, long storageRelid, IvmPlan plan) throws SQLException {
        if (plan instanceof SelectPlan select && select.aggregates() != null) {
            select.aggregates().rebuild(c, select, storageRelid);
        } else {
            AggregateState.dropAll(c, storageRelid);
            if (plan instanceof GroupingSetsPlan sets) {
                for (SelectPlan b : sets.branches()) {
                    Jdbc.executeRaw(c, b.aggregates().rebuildSql(b, storageRelid));
                }
            }
        }
        return fullRefreshRows(storageRelid, plan);
    }

    /** The query a FULL refresh takes its rows from, as {@link #beforeFullRefresh} returns it. */
    public static String fullRefreshRows(long storageRelid, IvmPlan plan) {
        if (plan instanceof SelectPlan select && select.aggregates() != null) {
            return select.aggregates().allOutputSql(select.aggregates().qualified(storageRelid), plan.names());
        }
        if (plan instanceof GroupingSetsPlan sets) {
            List<String> parts = new java.util.ArrayList<>();
            for (int i = 0; i < sets.branches().size(); i++) {
                SelectPlan b = sets.branches().get(i);
                parts.add(saltedRows(i, plan, b.aggregates().allOutputSql(b.aggregates().qualified(storageRelid), plan.names())));
            }
            return String.join("\nUNION ALL\n", parts);
        }
        return plan == null ? null : plan.hashedFullQuery();
    }

    /** The statements rebuilding the aggregate state before a FULL refresh, for explain; {@code null} if none. */
    public static String stateRebuildSql(long storageRelid, IvmPlan plan) {
        if (plan instanceof GroupingSetsPlan sets) {
            return sets.branches().stream().map(b -> b.aggregates().rebuildSql(b, storageRelid))
                    .collect(Collectors.joining(";\n"));
        }
        return plan instanceof SelectPlan select && select.aggregates() != null
                ? select.aggregates().rebuildSql(select, storageRelid) : null;
    }

    /**
     * {@link #stateRebuildSql} preceded by the drop of the state table, as statements to run later
     * (an IMMEDIATE trigger's TRUNCATE); {@code null} if the plan keeps no state.
     */
    public static String stateReplaceSql(long storageRelid, IvmPlan plan) {
        if (plan instanceof GroupingSetsPlan sets) {
            return sets.branches().stream().map(b -> "DROP TABLE IF EXISTS " + b.aggregates().qualified(storageRelid) + ";\n"
                    + b.aggregates().rebuildSql(b, storageRelid)).collect(Collectors.joining(";\n"));
        }
        return plan instanceof SelectPlan select && select.aggregates() != null
                ? "DROP TABLE IF EXISTS " + select.aggregates().qualified(storageRelid) + ";\n"
                        + select.aggregates().rebuildSql(select, storageRelid) : null;
    }

    /** Algebraic aggregates: add the weighted changes to the group states, then re-emit the touched groups. */
    private static StorageMerge.Counts applyAggregates(SqlRunner c, QualifiedName table, long storageRelid, SelectPlan plan,
                                          DeltaContext ctx, ServerCapabilities server, ChangeSink sink)
            throws SQLException {
        String net = updateState(c, table, storageRelid, plan, ctx, "");
        if (net == null) {
            return new StorageMerge.Counts(0, 0, 0);
        }
        AggregateState a = plan.aggregates();
        return mergeGroups(c, table, plan, "SELECT __pgt_kh FROM " + net, a.outputSql(a.qualified(storageRelid), plan.names(),
                net), server, sink);
    }

    /**
     * Grouping sets with a state per set: each branch's state takes its changes, then one MERGE
     * re-emits every touched group of every set, keyed by the set's salted group hash.
     */
    private static StorageMerge.Counts applyGroupingSets(SqlRunner c, QualifiedName table, long storageRelid,
                                                         GroupingSetsPlan plan, DeltaContext ctx, ServerCapabilities server,
                                                         ChangeSink sink) throws SQLException {
        List<String> hashes = new java.util.ArrayList<>();
        List<String> rows = new java.util.ArrayList<>();
        for (int i = 0; i < plan.branches().size(); i++) {
            SelectPlan b = plan.branches().get(i);
            String net = updateState(c, table, storageRelid, b, ctx, "_" + i);
            if (net != null) {
                AggregateState a = b.aggregates();
                hashes.add("SELECT " + GroupingSetsPlan.salted(i, "__pgt_kh") + " AS __pgt_kh FROM " + net);
                rows.add(saltedRows(i, plan, a.outputSql(a.qualified(storageRelid), plan.names(), net)));
            }
        }
        if (hashes.isEmpty()) {
            return new StorageMerge.Counts(0, 0, 0);
        }
        return mergeGroups(c, table, plan, String.join(" UNION ALL ", hashes), String.join("\nUNION ALL\n", rows), server, sink);
    }

    /** {@code rows} (user columns and a branch's {@code __pgt_h}) with the hash salted for branch {@code i}. */
    private static String saltedRows(int i, IvmPlan plan, String rows) {
        return "SELECT " + columns(plan, "__pgt_o") + ", " + GroupingSetsPlan.salted(i, "__pgt_o.__pgt_h") + " AS __pgt_h FROM ("
                + rows + ") __pgt_o";
    }

    /**
     * Adds the window's weighted changes of {@code plan} to its group states and rescans the groups
     * whose extremum may have left; returns the temporary table of the touched groups' net change
     * (with {@code __pgt_kh}), or null when the window does not reach the plan.
     */
    private static String updateState(SqlRunner c, QualifiedName table, long storageRelid, SelectPlan plan,
                                      DeltaContext ctx, String suffix) throws SQLException {
        AggregateState a = plan.aggregates();
        List<String> terms = plan.weightedTerms(ctx, a.deltaProjection(), true);
        if (terms.isEmpty()) {
            return null;
        }
        String state = a.qualified(storageRelid);
        String delta = "__pgt_agg_delta" + suffix;
        String net = "__pgt_agg_net" + suffix;
        String rescan = "__pgt_agg_rescan" + suffix;
        ctx.prepare(c);
        c.execute("CREATE TEMP TABLE " + delta + " ON COMMIT DROP AS "
                + ctx.wrap("SELECT * FROM (" + String.join("\nUNION ALL\n", terms) + ") __pgt_u"));
        c.execute("CREATE TEMP TABLE " + net + " ON COMMIT DROP AS " + a.netDeltaSql(delta));
        c.lockKeys("SELECT __pgt_kh FROM " + net);
        c.execute("CREATE TEMP TABLE " + rescan + " ON COMMIT DROP AS SELECT __pgt_n.* FROM " + net + " __pgt_n"
                + " JOIN " + state + " __pgt_s ON __pgt_s.__pgt_kh = __pgt_n.__pgt_kh WHERE " + a.extremumMayHaveLeft());
        c.execute(a.mergeSql(state, net));
        c.failIfPositive("SELECT count(*) FROM " + state + " WHERE __pgt_count < 0"
                + " AND __pgt_kh IN (SELECT __pgt_kh FROM " + net + ")", "the delta of " + table
                + " would leave groups with a negative row count; refresh it FULL to repair");
        if (!a.global()) {
            c.execute("DELETE FROM " + state + " WHERE __pgt_count = 0 AND __pgt_kh IN (SELECT __pgt_kh FROM " + net + ")");
        }
        c.execute("DELETE FROM " + state + " WHERE __pgt_kh IN (SELECT __pgt_kh FROM " + rescan + ")");
        c.execute("INSERT INTO " + state + " SELECT * FROM (" + a.restrictedStateSql(plan, rescan)
                + ") __pgt_r WHERE EXISTS (SELECT 1 FROM " + rescan + ")");
        return net;
    }

    private static String columns(IvmPlan plan, String qualifier) {
        return plan.names().stream().map(n -> (qualifier == null ? "" : qualifier + ".") + Identifiers.quote(n))
                .collect(Collectors.joining(", "));
    }

    /**
     * Select–project–join: the net change per distinct row (by content hash); rows with hash h
     * are numbered 1…k, so removing n drops the top n and adding n appends k+1…k+n.
     */
    private static StorageMerge.Counts applyMultiset(SqlRunner c, QualifiedName table, IvmPlan plan, DeltaContext ctx,
                                        ServerCapabilities server, ChangeSink sink) throws SQLException {
        String delta = plan.delta(ctx);
        if (delta == null) {
            return new StorageMerge.Counts(0, 0, 0);
        }
        String cols = columns(plan, null);
        String d = columns(plan, "__pgt_d");
        ctx.prepare(c);
        c.execute("CREATE TEMP TABLE __pgt_delta ON COMMIT DROP AS " + ctx.wrap("SELECT md5(row(" + d
                + ")::text)::uuid AS __pgt_h, " + d + ", __pgt_d.__pgt_w FROM (\n" + delta + "\n) AS __pgt_d"));
        // Its size, for the next statements' plans: unanalyzed, a few rows look like hundreds, and the
        // statements then hash the whole stream table instead of looking rows up by hash or id.
        c.execute("ANALYZE pg_temp.__pgt_delta");
        c.lockKeys("SELECT __pgt_h FROM __pgt_delta");
        c.execute("CREATE TEMP TABLE __pgt_net ON COMMIT DROP AS"
                + " SELECT n.__pgt_h, n.__pgt_n, coalesce(k.__pgt_k, 0) AS __pgt_k FROM"
                + " (SELECT __pgt_h, sum(__pgt_w) AS __pgt_n FROM __pgt_delta GROUP BY __pgt_h HAVING sum(__pgt_w) <> 0) n"
                + " LEFT JOIN (SELECT __pgt_h, count(*) AS __pgt_k FROM " + table.quoted() + " WHERE __pgt_h IN"
                + " (SELECT __pgt_h FROM __pgt_delta) GROUP BY __pgt_h) k USING (__pgt_h)");
        c.execute("ANALYZE pg_temp.__pgt_net");
        c.failIfPositive("SELECT count(*) FROM __pgt_net WHERE __pgt_k + __pgt_n < 0", "the delta of " + table
                + " would remove rows it does not have (distinct rows); refresh it FULL to repair");
        // rows whose net change is more than one occurrence: rare, and only they need generate_series below
        boolean several = c.holds("SELECT EXISTS (SELECT 1 FROM __pgt_net WHERE abs(__pgt_n) > 1)");
        // One MERGE: occurrences k+1 … k+n of a row come in, occurrences k+n+1 … k go. A net change of
        // one occurrence (the common case) is written without generate_series, whose row estimate
        // (1,000 per call, whatever its bounds) would make a few changes look like a large MERGE;
        // the generate_series branches are there only when some row changes by more than one.
        String nulls = plan.names().stream().map(n -> ", NULL").collect(Collectors.joining());
        String rows = " FROM __pgt_net net JOIN (SELECT DISTINCT ON (__pgt_h) * FROM __pgt_delta ORDER BY __pgt_h) r USING (__pgt_h)";
        String source = "SELECT md5(net.__pgt_h::text || ':' || (net.__pgt_k + 1))::uuid AS __pgt_rid, net.__pgt_h,"
                + " true AS __pgt_in, " + columns(plan, "r") + rows + " WHERE net.__pgt_n = 1"
                + "\nUNION ALL\nSELECT md5(__pgt_h::text || ':' || __pgt_k)::uuid, __pgt_h, false" + nulls
                + " FROM __pgt_net WHERE __pgt_n = -1";
        if (several) {
            source += "\nUNION ALL\nSELECT md5(net.__pgt_h::text || ':' || __pgt_j)::uuid, net.__pgt_h, true, " + columns(plan, "r")
                    + rows + ", generate_series(net.__pgt_k + 1, net.__pgt_k + net.__pgt_n) __pgt_j WHERE net.__pgt_n > 1"
                    + "\nUNION ALL\nSELECT md5(__pgt_h::text || ':' || __pgt_j)::uuid, __pgt_h, false" + nulls
                    + " FROM __pgt_net, generate_series(__pgt_k + __pgt_n + 1, __pgt_k) __pgt_j WHERE __pgt_n < -1";
        }
        return c.merge(new StorageMerge(table.quoted(), source, "__pgt_rid", false, "NOT __pgt_s.__pgt_in",
                null, null, "__pgt_s.__pgt_in", cols + ", __pgt_row_id, __pgt_h",
                columns(plan, "__pgt_s") + ", __pgt_s.__pgt_rid, __pgt_s.__pgt_h", plan.names()), server, sink);
    }

    /** Grouped: recompute the groups the changes touch and MERGE only rows that differ. */
    private static StorageMerge.Counts rescanGroups(SqlRunner c, QualifiedName table, SelectPlan plan, DeltaContext ctx,
                                       ServerCapabilities server, ChangeSink sink) throws SQLException {
        String touched = plan.touchedKeys(ctx);
        ctx.prepare(c);
        c.execute("CREATE TEMP TABLE __pgt_keys ON COMMIT DROP AS\n" + ctx.wrap(touched));
        c.execute("ANALYZE pg_temp.__pgt_keys");
        String keyHash = plan.groupKeys().isEmpty() ? "md5(row()::text)::uuid" : plan.keyHash("__pgt_kk");
        c.lockKeys("SELECT " + keyHash + " FROM pg_temp.__pgt_keys __pgt_kk");
        return mergeGroups(c, table, plan, "SELECT DISTINCT " + keyHash + " AS __pgt_kh FROM pg_temp.__pgt_keys __pgt_kk",
                plan.recompute("pg_temp.__pgt_keys", FromItem::current, plan.select(), plan.where(), plan.having(), true),
                server, sink);
    }

    /**
     * MERGEs the groups whose key hashes {@code hashes} selects: {@code rows} (user columns and
     * {@code __pgt_h}) holds their rows now; a touched group without a row is deleted, and rows
     * whose values did not change are not rewritten.
     */
    private static StorageMerge.Counts mergeGroups(SqlRunner c, QualifiedName table, IvmPlan plan, String hashes, String rows,
                                      ServerCapabilities server, ChangeSink sink) throws SQLException {
        String cols = columns(plan, null);
        String set = plan.names().stream().map(n -> Identifiers.quote(n) + " = __pgt_s." + Identifiers.quote(n))
                .collect(Collectors.joining(", "));
        String source = "SELECT md5(__pgt_kk.__pgt_kh::text || ':1')::uuid AS __pgt_rid, __pgt_kk.__pgt_kh, __pgt_r.*\n"
                + "    FROM (" + hashes + ") __pgt_kk\n"
                + "    LEFT JOIN (" + rows + ") __pgt_r ON __pgt_r.__pgt_h = __pgt_kk.__pgt_kh";
        return c.merge(new StorageMerge(table.quoted(), source, "__pgt_rid", false, "__pgt_s.__pgt_h IS NULL",
                "row(" + columns(plan, "__pgt_t") + ")::text IS DISTINCT FROM row(" + columns(plan, "__pgt_s") + ")::text",
                set, "__pgt_s.__pgt_h IS NOT NULL", cols + ", __pgt_row_id, __pgt_h",
                columns(plan, "__pgt_s") + ", __pgt_s.__pgt_rid, __pgt_s.__pgt_h", plan.names()), server, sink);
    }
}
