package io.pgtrickle.connect.source;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrickle.testing.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;

/** What the ITs compare: outbox positions as the outbox holds them and as the topic holds them. */
final class Outbox {
    static final ObjectMapper JSON = new ObjectMapper();

    private Outbox() {
    }

    /** Every change of {@code streamTable}'s outbox ({@code schema.name} as the outbox writes it), in order. */
    static List<String> positions(TestDatabase db, String streamTable) throws SQLException {
        List<String> positions = new ArrayList<>();
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT o.outbox_offset, ch.row_index FROM pgtrickle.pgt_outbox o"
                     + " CROSS JOIN LATERAL pgtrickle.outbox_changes(o.outbox_offset, -1, 2147483647) ch"
                     + " WHERE o.stream_table = ? ORDER BY 1, 2")) {
            ps.setString(1, streamTable);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    positions.add(rs.getLong(1) + ":" + rs.getInt(2));
                }
            }
        }
        return positions;
    }

    /** The row key (JSON text) of every change of {@code streamTable}'s outbox, in order. */
    static List<String> keys(TestDatabase db, String streamTable) throws SQLException {
        List<String> keys = new ArrayList<>();
        try (Connection c = db.connect();
             PreparedStatement ps = c.prepareStatement("SELECT ch.key::text FROM pgtrickle.pgt_outbox o"
                     + " CROSS JOIN LATERAL pgtrickle.outbox_changes(o.outbox_offset, -1, 2147483647) ch"
                     + " WHERE o.stream_table = ? ORDER BY o.outbox_offset, ch.row_index")) {
            ps.setString(1, streamTable);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    keys.add(rs.getString(1));
                }
            }
        }
        return keys;
    }

    static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** The {@code pgt_position} headers of the records, in their order. */
    static List<String> positionsOf(List<ConsumerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> header(r, "pgt_position")).toList();
    }

    static JsonNode json(byte[] bytes) {
        try {
            return JSON.readTree(bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
