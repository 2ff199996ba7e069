package io.pgtrickle.core.refresh;

import io.pgtrickle.core.ivm.IvmPlan;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Compiled plans by stream table, reused while nothing they were compiled from changed: the
 * defining query, the stream table's columns, and the catalog entries of its sources (columns,
 * types, primary keys, relation kinds), which one cheap query fingerprints. Compiling costs tens
 * of milliseconds (parsing, catalog reads, type probes); a refresh of a small change costs less.
 */
final class PlanCache {
    private record Entry(String key, IvmPlan plan) {
    }

    private final Map<Long, Entry> plans = new ConcurrentHashMap<>();

    /**
     * What the catalog says now of a stream table's sources, fingerprinted: their columns, types,
     * primary keys and relation kinds, the definitions of the views among them, and the latest
     * schema change event recorded for them or for a function the query calls. {@code watched}
     * is whether the event triggers that record those events are all enabled.
     */
    record Fingerprint(String value, boolean watched) {
    }

    /**
     * The query of the fingerprint of stream table {@code ?} (two parameters, both its id), for a
     * caller that sends it with others; read the row with {@link #fingerprint(ResultSet)}.
     */
    static final String FINGERPRINT = """
            WITH s AS (SELECT d.source_relid AS oid FROM pgtrickle.pgt_dependencies d WHERE d.pgt_id = ?)
            SELECT (SELECT md5(coalesce(string_agg(x, ',' ORDER BY x), '')) FROM (
                      SELECT concat_ws('.', a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod, a.attisdropped) AS x
                        FROM pg_attribute a WHERE a.attrelid IN (SELECT oid FROM s) AND a.attnum > 0
                      UNION ALL SELECT concat_ws('.', 'k', i.indrelid, i.indkey::text) FROM pg_index i
                       WHERE i.indrelid IN (SELECT oid FROM s) AND i.indisprimary
                      UNION ALL SELECT concat_ws('.', 'r', c.oid, c.relkind::text,
                             EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid), -- children: no key (IvmCompiler)
                             (SELECT count(*) FROM pgtrickle._tree_of(c.oid) t JOIN pg_class f ON f.oid = t.member
                               WHERE f.relkind = 'f')) -- foreign members: not differential
                        FROM pg_class c WHERE c.oid IN (SELECT oid FROM s)
                      UNION ALL SELECT concat_ws('.', 'v', c.oid, md5(pg_get_viewdef(c.oid)), c.reloptions::text) FROM pg_class c
                       WHERE c.oid IN (SELECT oid FROM s) AND c.relkind = 'v'
                      UNION ALL SELECT concat_ws('.', 'e', max(e.event_id)) FROM pgtrickle.pgt_source_events e
                       WHERE e.source_relid IN (SELECT oid FROM s)
                          OR e.source_relid IN (SELECT f.function_oid FROM pgtrickle.pgt_function_dependencies f
                                                 WHERE f.pgt_id = ?)) f),
                   (SELECT count(*) = 4 FROM pg_event_trigger
                     WHERE evtname IN ('pgtrickle_ddl_end', 'pgtrickle_sql_drop', 'pgtrickle_definition_end',
                                       'pgtrickle_definition_drop') AND evtenabled <> 'D')""";

    static Fingerprint fingerprint(ResultSet rs) throws SQLException {
        return new Fingerprint(rs.getString(1), rs.getBoolean(2));
    }

    /** Reads the fingerprint of stream table {@code id} now. */
    static Fingerprint fingerprint(Connection c, long id) throws SQLException {
        try (PreparedStatement ps = Jdbc.prepare(c, FINGERPRINT, id, id); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return fingerprint(rs);
        }
    }

    /** The cache key of a plan compiled now from {@code query}, for storage columns {@code columns}. */
    static String key(Fingerprint catalog, String query, List<String> columns) {
        return catalog.value() + "|" + String.join(",", columns) + "|" + query;
    }

    IvmPlan get(long streamTableId, String key) {
        Entry e = plans.get(streamTableId);
        return e != null && e.key().equals(key) ? e.plan() : null;
    }

    void put(long streamTableId, String key, IvmPlan plan) {
        plans.put(streamTableId, new Entry(key, plan));
    }
}
