package io.pgtrickle.relay.testing;

import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.pgtrickle.testing.TestDatabase;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.resps.StreamEntry;

/** Outbox positions ({@code <offset>:<row_index>}) as the outbox holds them and as a target holds them. */
public final class Positions {
    private Positions() {
    }

    /** Every change of the outbox of {@code streamTable} (quoted {@code schema.name}), in order. */
    public static List<String> inOutbox(TestDatabase db, String streamTable) throws SQLException {
        try (Connection c = db.connect()) {
            return inOutbox(c, streamTable);
        }
    }

    /** As {@link #inOutbox(TestDatabase, String)}, over a connection of the caller's. */
    public static List<String> inOutbox(Connection c, String streamTable) throws SQLException {
        List<String> positions = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT o.outbox_offset, ch.row_index FROM pgtrickle.pgt_outbox o"
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

    /** The {@code pgt_position} of every entry of the Redis stream {@code key} (XRANGE - +), in order. */
    public static List<String> inRedis(String host, int port, String key) {
        try (RedisClient redis = RedisClient.builder().hostAndPort(host, port).build()) {
            List<String> positions = new ArrayList<>();
            for (StreamEntry e : redis.xrange(key, (StreamEntryID) null, (StreamEntryID) null, Integer.MAX_VALUE)) {
                positions.add(e.getFields().get("pgt_position"));
            }
            return positions;
        }
    }

    /**
     * The {@code pgt_position} header of every committed record of {@code topic}, as an independent
     * {@code read_committed} consumer sees it; empty while the topic does not exist. With one
     * partition (the broker's default) the offset order is the publish order.
     */
    public static List<String> inKafka(KafkaTestCluster kafka, String topic) {
        try {
            return kafka.readCommitted(topic).stream().map(r -> r.headers().get("pgt_position")).toList();
        } catch (RuntimeException e) {
            return List.of(); // the topic does not exist yet
        }
    }

    /**
     * The {@code pgt_position} header of every message of the JetStream stream {@code stream} at
     * {@code url}, read by sequence from 1 to the last; empty while the stream does not exist.
     */
    public static List<String> inNats(String url, String stream) throws IOException, InterruptedException,
            JetStreamApiException {
        try (io.nats.client.Connection nats = Nats.connect(url)) {
            JetStreamManagement jsm = nats.jetStreamManagement();
            long last;
            try {
                last = jsm.getStreamInfo(stream).getStreamState().getLastSequence();
            } catch (JetStreamApiException e) {
                return List.of();
            }
            List<String> positions = new ArrayList<>();
            for (long seq = 1; seq <= last; seq++) {
                positions.add(jsm.getMessage(stream, seq).getHeaders().getFirst("pgt_position"));
            }
            return positions;
        }
    }
}
