package io.pgtrickle.core.outbox;

import io.pgtrickle.core.error.SqlErrors;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;

/**
 * The outbox of stream tables, over the SQL functions {@code enable_outbox}, {@code disable_outbox},
 * {@code outbox_status} and {@code outbox_changes}, so that the SQL and Java APIs behave alike.
 * Works without a running engine.
 */
public final class Outboxes {
    private final DataSource dataSource;

    public Outboxes(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /**
     * Gives stream table {@code name} an outbox; its first entry holds the contents it has now (as
     * inserts), and every refresh after it writes its delta.
     */
    public void enable(String name, int retentionHours, int inlineThresholdRows) {
        call("cannot enable the outbox of " + name, c -> {
            Jdbc.call(c, "SELECT pgtrickle.enable_outbox(?, ?, ?)", name, retentionHours, inlineThresholdRows);
            return null;
        });
    }

    /** As {@link #enable(String, int, int)} with the SQL function's defaults: 24 hours, 100 rows inline. */
    public void enable(String name) {
        enable(name, 24, 100);
    }

    /** Removes the outbox of {@code name} and everything in it. */
    public void disable(String name, boolean ifExists) {
        call("cannot disable the outbox of " + name, c -> {
            Jdbc.call(c, "SELECT pgtrickle.disable_outbox(?, ?)", name, ifExists);
            return null;
        });
    }

    public OutboxStatus status(String name) {
        return call("cannot report the outbox of " + name, c -> {
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT * FROM pgtrickle.outbox_status(?)", name);
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new OutboxStatus(rs.getString("stream_table"), rs.getInt("retention_hours"),
                        rs.getInt("inline_threshold_rows"), rs.getObject("enabled_at", OffsetDateTime.class),
                        rs.getLong("entries"), rs.getLong("changes"), rs.getObject("first_offset", Long.class),
                        rs.getObject("last_offset", Long.class), rs.getObject("oldest_at", OffsetDateTime.class),
                        rs.getObject("newest_at", OffsetDateTime.class));
            }
        });
    }

    /**
     * Up to {@code maxEntries} entries of {@code name}'s outbox after offset {@code afterOffset}, in
     * offset order, each with all its changes. Only entries whose writers committed before every
     * transaction still running began are returned, so a reader that goes on from the last offset it
     * saw never skips an entry that commits late (the rule consumer groups use). Holds every change
     * in memory: a reader of large deltas uses {@link #headers} and {@link #changes} instead.
     */
    public List<OutboxDelta> read(String name, long afterOffset, int maxEntries) {
        return call("cannot read the outbox of " + name, c -> {
            List<OutboxDelta> entries = new ArrayList<>();
            // One query for the entries and all their changes, inline or in the side table.
            try (PreparedStatement ps = Jdbc.prepare(c, """
                    SELECT o.outbox_offset, o.stream_table, o.refresh_id, o.created_at, o.full_refresh,
                           ch.row_index, ch.op, ch.key::text, ch.before::text, ch.after::text
                      FROM (SELECT * FROM pgtrickle.pgt_outbox o
                             WHERE o.pgt_id = pgtrickle._outbox_stream_table(?, true) AND o.outbox_offset > ?
                               AND o.xid8 < pg_snapshot_xmin(pg_current_snapshot())
                             ORDER BY o.outbox_offset LIMIT ?) o
                      CROSS JOIN LATERAL pgtrickle.outbox_changes(o.outbox_offset, -1, 2147483647) ch
                     ORDER BY o.outbox_offset, ch.row_index""", name, afterOffset, maxEntries);
                 ResultSet rs = ps.executeQuery()) {
                long offset = -1;
                OutboxDelta head = null;
                List<OutboxChange> changes = new ArrayList<>();
                while (rs.next()) {
                    if (rs.getLong(1) != offset) {
                        if (head != null) {
                            entries.add(withChanges(head, changes));
                        }
                        offset = rs.getLong(1);
                        head = new OutboxDelta(offset, rs.getString(2), rs.getObject(3, Long.class),
                                rs.getObject(4, OffsetDateTime.class), rs.getBoolean(5), List.of());
                        changes = new ArrayList<>();
                    }
                    changes.add(new OutboxChange(rs.getInt(6), rs.getString(7), rs.getString(8), rs.getString(9),
                            rs.getString(10)));
                }
                if (head != null) {
                    entries.add(withChanges(head, changes));
                }
            }
            return entries;
        });
    }

    /**
     * Up to {@code maxEntries} entries of {@code name}'s outbox after offset {@code afterOffset}, in
     * offset order, without their changes: page those with {@link #changes}. The same entries as
     * {@link #read} returns (settled ones only), so a reader going on from the last offset it saw
     * never skips an entry that commits late.
     */
    public List<OutboxHeader> headers(String name, long afterOffset, int maxEntries) {
        return call("cannot read the outbox of " + name, c -> {
            List<OutboxHeader> headers = new ArrayList<>();
            try (PreparedStatement ps = Jdbc.prepare(c, """
                    SELECT o.outbox_offset, o.stream_table, o.refresh_id, o.created_at, o.full_refresh, o.row_count
                      FROM pgtrickle.pgt_outbox o
                     WHERE o.pgt_id = pgtrickle._outbox_stream_table(?, true) AND o.outbox_offset > ?
                       AND o.xid8 < pg_snapshot_xmin(pg_current_snapshot())
                     ORDER BY o.outbox_offset LIMIT ?""", name, afterOffset, maxEntries);
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    headers.add(new OutboxHeader(rs.getLong(1), rs.getString(2), rs.getObject(3, Long.class),
                            rs.getObject(4, OffsetDateTime.class), rs.getBoolean(5), rs.getLong(6)));
                }
            }
            return headers;
        });
    }

    /**
     * One page of the changes of {@code name}'s entry at {@code offset}: those with a row index
     * above {@code afterRowIndex} (-1 for the first page), at most {@code limit}, in row order,
     * whether the entry holds them inline or in the side table. Empty when the entry is not
     * {@code name}'s, is gone (retention) or is not settled yet (see {@link #headers}); a page
     * shorter than {@code limit} is the entry's last.
     */
    public List<OutboxChange> changes(String name, long offset, int afterRowIndex, int limit) {
        if (limit <= 0) {
            throw new IllegalArgumentException("a page holds at least one change, not " + limit);
        }
        return call("cannot read the outbox of " + name, c -> {
            List<OutboxChange> page = new ArrayList<>(Math.min(limit, 10_000));
            try (PreparedStatement ps = Jdbc.prepare(c, """
                    SELECT ch.row_index, ch.op, ch.key::text, ch.before::text, ch.after::text
                      FROM pgtrickle.pgt_outbox o
                     CROSS JOIN LATERAL pgtrickle.outbox_changes(o.outbox_offset, ?, ?) ch
                     WHERE o.outbox_offset = ? AND o.pgt_id = pgtrickle._outbox_stream_table(?, true)
                       AND o.xid8 < pg_snapshot_xmin(pg_current_snapshot())
                     ORDER BY ch.row_index""", afterRowIndex, limit, offset, name);
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    page.add(new OutboxChange(rs.getInt(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5)));
                }
            }
            return page;
        });
    }

    private static OutboxDelta withChanges(OutboxDelta head, List<OutboxChange> changes) {
        return new OutboxDelta(head.offset(), head.streamTable(), head.refreshId(), head.createdAt(), head.fullRefresh(),
                changes);
    }

    private <T> T call(String context, Jdbc.Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw SqlErrors.translateCall(context, e);
        }
    }
}
