package io.pgtrickle.core.refresh;

import io.pgtrickle.core.ivm.IvmPlan;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
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

    /** The cache key of a stream table's plan now; null when a source is gone. */
    static String key(Connection c, String query, List<String> columns, List<Long> sources) throws SQLException {
        String catalog = Jdbc.queryValue(c, String.class, """
                SELECT md5(coalesce(string_agg(x, ',' ORDER BY x), '')) FROM (
                  SELECT concat_ws('.', a.attrelid, a.attnum, a.attname, a.atttypid, a.atttypmod, a.attisdropped) AS x
                    FROM pg_attribute a WHERE a.attrelid = ANY (?::oid[]) AND a.attnum > 0
                  UNION ALL SELECT concat_ws('.', 'k', i.indrelid, i.indkey::text) FROM pg_index i
                   WHERE i.indrelid = ANY (?::oid[]) AND i.indisprimary
                  UNION ALL SELECT concat_ws('.', 'r', c.oid, c.relkind::text,
                         EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid), -- children: no key (IvmCompiler)
                         (SELECT count(*) FROM pgtrickle._tree_of(c.oid) t JOIN pg_class f ON f.oid = t.member
                           WHERE f.relkind = 'f')) -- foreign members: not differential
                    FROM pg_class c WHERE c.oid = ANY (?::oid[])
                  UNION ALL SELECT concat_ws('.', 'v', c.oid, md5(pg_get_viewdef(c.oid)), c.reloptions::text) FROM pg_class c
                   WHERE c.oid = ANY (?::oid[]) AND c.relkind = 'v') f""",
                sourceArray(sources), sourceArray(sources), sourceArray(sources), sourceArray(sources));
        return catalog + "|" + String.join(",", columns) + "|" + query;
    }

    private static String sourceArray(List<Long> sources) {
        return "{" + String.join(",", sources.stream().map(String::valueOf).toList()) + "}";
    }

    IvmPlan get(long streamTableId, String key) {
        Entry e = plans.get(streamTableId);
        return e != null && e.key().equals(key) ? e.plan() : null;
    }

    void put(long streamTableId, String key, IvmPlan plan) {
        plans.put(streamTableId, new Entry(key, plan));
    }
}
