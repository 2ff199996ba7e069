package io.pgtrickle.core.inbox;

import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The source positions of a consumer that fills inboxes ({@code pgtrickle.pgt_source_offsets}).
 * Write them in the transaction that inserts the events they cover: then the inbox and the
 * positions never disagree, whatever crashes.
 */
public final class SourceOffsets {
    private SourceOffsets() {
    }

    /** The consumer's positions by source partition; empty for a new consumer. */
    public static Map<String, String> read(Connection c, String consumer) throws SQLException {
        Map<String, String> positions = new LinkedHashMap<>();
        try (PreparedStatement ps = Jdbc.prepare(c, "SELECT source_partition, source_position"
                + " FROM pgtrickle.pgt_source_offsets WHERE consumer = ? ORDER BY source_partition", consumer);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                positions.put(rs.getString(1), rs.getString(2));
            }
        }
        return positions;
    }

    /** Records the positions (partition to position) in the caller's transaction. */
    public static void write(Connection c, String consumer, Map<String, String> positions) throws SQLException {
        if (positions.isEmpty()) {
            return;
        }
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO pgtrickle.pgt_source_offsets AS o"
                + " (consumer, source_partition, source_position) VALUES (?, ?, ?)"
                + " ON CONFLICT (consumer, source_partition) DO UPDATE"
                + " SET source_position = excluded.source_position, updated_at = clock_timestamp()")) {
            for (Map.Entry<String, String> p : positions.entrySet()) {
                ps.setString(1, consumer);
                ps.setString(2, p.getKey());
                ps.setString(3, p.getValue());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }
}
