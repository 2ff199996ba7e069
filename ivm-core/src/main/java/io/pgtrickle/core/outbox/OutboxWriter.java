package io.pgtrickle.core.outbox;

import io.pgtrickle.core.sql.ChangeSink;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.StorageMerge;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;

/**
 * Writes a refresh's delta to the stream table's outbox, in the refresh's transaction.
 *
 * <p>The refresh {@linkplain #reserve reserves} the entry before its MERGE (the outbox lock and
 * the offset), and the MERGE into the storage table writes the entry from the rows it changed
 * (their images before and after, from {@code RETURNING}), in its own statement: the delta costs
 * no second scan of the stream table and no round trip per row. Before PostgreSQL 18 the rows are
 * collected in {@link StorageMerge#DELTA_TABLE} first and {@code pgtrickle._publish_outbox} writes
 * them. An empty delta writes no entry. The refresh's history id is added by {@link #attachRefresh}.
 */
public final class OutboxWriter {
    private OutboxWriter() {
    }

    /** Whether stream table {@code id} has an outbox, as the caller's transaction sees it. */
    public static boolean enabled(Connection c, long id) throws SQLException {
        return Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class,
                "SELECT EXISTS (SELECT 1 FROM pgtrickle.pgt_outbox_config WHERE pgt_id = ?)", id));
    }

    /**
     * Reserves the next entry of stream table {@code id}'s outbox for this transaction's refresh.
     *
     * @param fullRefresh whether the refresh recomputes (the entry's {@code full_refresh})
     * @return where the MERGE writes its delta, or {@code null} when the stream table has no outbox
     */
    public static Entry reserve(Connection c, long id, boolean fullRefresh) throws SQLException {
        try (PreparedStatement ps = Jdbc.prepare(c, "SELECT * FROM pgtrickle._reserve_outbox_entry(?)", id);
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? new Entry(id, rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getString(4), fullRefresh)
                    : null;
        }
    }

    /** Records the refresh's history id in its entry (none when the delta was empty). */
    public static void attachRefresh(Connection c, Entry entry, long refreshId) throws SQLException {
        Jdbc.update(c, attachRefreshSql(entry, "?"), refreshId);
    }

    /** The UPDATE of {@link #attachRefresh}, with {@code refreshId} as SQL. */
    public static String attachRefreshSql(Entry entry, String refreshId) {
        return "UPDATE pgtrickle.pgt_outbox SET refresh_id = " + refreshId + " WHERE outbox_offset = " + entry.offset();
    }

    /**
     * An outbox entry reserved for one refresh: its offset, the outbox's inline threshold, the SQL
     * of a changed row's key (over {@code d}) and the stream table's name as an SQL literal, all
     * from the catalog ({@code _reserve_outbox_entry}), never from user input.
     */
    public record Entry(long pgtId, long offset, int inlineThresholdRows, String keySql, String streamTableLiteral,
                        boolean fullRefresh) implements ChangeSink {

        /**
         * The changes numbered in key order, then the entry (counts and, up to the threshold, the
         * changes inline, built as text and parsed once: jsonb_agg costs about twice as much), then
         * past the threshold the changes in the side table. No row for an empty delta.
         */
        @Override
        public String writeSql(String changes) {
            String inline = "((SELECT count(*) FROM " + changes + ") <= " + inlineThresholdRows + ")";
            return "__pgt_ox AS (SELECT (row_number() OVER (ORDER BY key, op) - 1)::integer AS row_index, op, key, before, after"
                    + " FROM (SELECT lower(d.__pgt_action) AS op, d.__pgt_before AS before, d.__pgt_after AS after, "
                    + keySql + " AS key FROM " + changes + " d) __pgt_k),\n"
                    + "__pgt_oe AS (INSERT INTO pgtrickle.pgt_outbox (outbox_offset, pgt_id, stream_table, full_refresh,"
                    + " inserted, updated, deleted, row_count, changes)"
                    + " SELECT " + offset + ", " + pgtId + ", " + streamTableLiteral + ", " + fullRefresh + ","
                    + " count(*) FILTER (WHERE op = 'insert'), count(*) FILTER (WHERE op = 'update'),"
                    + " count(*) FILTER (WHERE op = 'delete'), count(*),"
                    + " ('[' || string_agg(jsonb_build_object('row_index', row_index, 'op', op, 'key', key,"
                    + " 'before', before, 'after', after)::text, ',' ORDER BY row_index) FILTER (WHERE " + inline
                    + ") || ']')::jsonb FROM __pgt_ox HAVING count(*) > 0),\n"
                    + "__pgt_oc AS (INSERT INTO pgtrickle.pgt_outbox_changes (outbox_offset, row_index, op, key, before, after)"
                    + " SELECT " + offset + ", row_index, op, key, before, after FROM __pgt_ox WHERE NOT " + inline + ")";
        }

        @Override
        public void writeCollected(Connection c) throws SQLException {
            Jdbc.queryValue(c, Long.class, "SELECT pgtrickle._publish_outbox(?, NULL, ?, ?)", pgtId, fullRefresh, offset);
        }
    }
}
