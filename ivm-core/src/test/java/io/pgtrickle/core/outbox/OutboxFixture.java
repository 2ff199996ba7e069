package io.pgtrickle.core.outbox;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;

/**
 * Stream tables with outboxes, and outbox entries written the way a refresh writes them
 * ({@code pgtrickle._reserve_outbox_entry}): one row per refresh, its offset drawn from the outbox
 * sequence under the stream table's outbox lock, held to commit. Tests write the rows themselves
 * to choose their timing, size and age, and to provoke commits out of offset order.
 */
final class OutboxFixture {
    /** The advisory lock class one stream table's offsets are drawn under (V15, V22: _reserve_outbox_entry). */
    static final int WRITER_LOCK = 1_346_851_843;

    private OutboxFixture() {
    }

    /** An engine without background work, capturing by trigger (no replication slot needed). */
    static PgTrickleEngine engine(TestDatabase db) {
        return PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(CdcMode.TRIGGER));
    }

    /** Drops every stream table, then creates {@code names} over one source table, each with an outbox. */
    static void streamTablesWithOutboxes(PgTrickleEngine engine, TestDatabase db, int retentionHours, String... names) {
        StreamTables api = engine.streamTables();
        EngineFixture.dropAllStreamTables(api);
        db.execute("DROP TABLE IF EXISTS src CASCADE", "CREATE TABLE src (id int PRIMARY KEY, v int)");
        for (String name : names) {
            api.create(StreamTableSpec.parse(name, "SELECT id, v FROM src", "1h", "FULL"));
            db.execute("SELECT pgtrickle.enable_outbox('" + name + "', retention_hours => " + retentionHours
                    + ", inline_threshold_rows => 2)");
        }
    }

    /** Writes one entry of {@code streamTable} with {@code rows} inserts, now; returns its offset. */
    static long write(TestDatabase db, String streamTable, int rows) {
        return write(db, streamTable, rows, null);
    }

    /** Writes one entry created at {@code createdAt} (null: now), in a transaction of its own. */
    static long write(TestDatabase db, String streamTable, int rows, OffsetDateTime createdAt) {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            long offset = write(c, streamTable, rows, createdAt);
            c.commit();
            return offset;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot write an outbox entry of " + streamTable + ": " + e.getMessage(), e);
        }
    }

    /**
     * Writes one entry on {@code c}'s open transaction: takes the stream table's writer lock, draws
     * the offset, inserts the row (inline changes up to the threshold of 2, else side-table rows).
     * The caller commits, which releases the lock.
     */
    static long write(Connection c, String streamTable, int rows, OffsetDateTime createdAt) throws SQLException {
        long pgtId;
        int threshold;
        try (PreparedStatement ps = c.prepareStatement("SELECT s.pgt_id, o.inline_threshold_rows"
                + " FROM pgtrickle.pgt_stream_tables s JOIN pgtrickle.pgt_outbox_config o USING (pgt_id)"
                + " WHERE s.pgt_schema = 'public' AND s.pgt_name = ?")) {
            ps.setString(1, streamTable);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException(streamTable + " has no outbox");
                }
                pgtId = rs.getLong(1);
                threshold = rs.getInt(2);
            }
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_advisory_xact_lock(?, ((?::bigint << 32) >> 32)::integer)")) {
            ps.setInt(1, WRITER_LOCK);
            ps.setLong(2, pgtId);
            ps.execute();
        }
        boolean inline = rows <= threshold;
        long offset;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO pgtrickle.pgt_outbox (outbox_offset, pgt_id, stream_table,"
                + " created_at, full_refresh, inserted, updated, deleted, row_count, changes)"
                + " SELECT nextval('pgtrickle.pgt_outbox_offset_seq'), ?, 'public.' || quote_ident(?),"
                + " coalesce(?::timestamptz, clock_timestamp()), false, ?, 0, 0, ?,"
                + " CASE WHEN ? THEN (SELECT coalesce(jsonb_agg(jsonb_build_object('row_index', i, 'op', 'insert',"
                + "   'key', jsonb_build_object('id', i), 'before', NULL, 'after', jsonb_build_object('id', i, 'v', i))"
                + "   ORDER BY i), '[]') FROM generate_series(0, ? - 1) i) END"
                + " RETURNING outbox_offset")) {
            ps.setLong(1, pgtId);
            ps.setString(2, streamTable);
            ps.setObject(3, createdAt);
            ps.setInt(4, rows);
            ps.setInt(5, rows);
            ps.setBoolean(6, inline);
            ps.setInt(7, rows);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                offset = rs.getLong(1);
            }
        }
        if (!inline) {
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO pgtrickle.pgt_outbox_changes"
                    + " (outbox_offset, row_index, op, key, before, after)"
                    + " SELECT ?, i, 'insert', jsonb_build_object('id', i), NULL, jsonb_build_object('id', i, 'v', i)"
                    + " FROM generate_series(0, ? - 1) i")) {
                ps.setLong(1, offset);
                ps.setInt(2, rows);
                ps.executeUpdate();
            }
        }
        return offset;
    }
}
