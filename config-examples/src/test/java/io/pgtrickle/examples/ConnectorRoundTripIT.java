package io.pgtrickle.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrickle.connect.testing.ConnectTestCluster;
import io.pgtrickle.connect.testing.ConnectorJson;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.inbox.InboxSpec;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole Kafka Connect path as a user deploys it: both plugin archives unpacked into one
 * worker's {@code plugin.path}, both connectors registered from the JSON of config-examples/connect,
 * a stream table's deltas going source connector -> topic -> sink connector -> inbox while writers
 * change its source, the worker replaced and the source task restarted mid-stream. Every outbox
 * change is on the topic once, in outbox order, and in the inbox once, with the payload the topic
 * holds.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ConnectorRoundTripIT {
    private static final long SEED = Long.getLong("pgtrickle.seed", 20261203L);
    private static final Path CONNECT = Path.of("..", "config-examples", "connect");
    private static final String STREAM_TABLE = "public.order_totals";
    private static final String TOPIC = "pgtrickle." + STREAM_TABLE;
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyChangeGoesFromTheStreamTableThroughBothConnectorsIntoTheInboxOnceAcrossAWorkerReplacement(
            TestDatabase db, @TempDir Path dir) throws Exception {
        db.execute("CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL, amount numeric(12,2) NOT NULL)");
        EngineConfig engineConfig = EngineConfig.of(db.jdbcUrl()).withSlotName("pgtrickle_" + db.name())
                .withSchedulerTick(Duration.ofMillis(100));
        try (PgTrickleEngine engine = PgTrickleEngine.open(engineConfig).start();
             ConnectTestCluster connect = ConnectTestCluster.start(dir, List.of(archive("source"), archive("sink")))) {
            engine.streamTables().create(StreamTableSpec.parse("order_totals",
                    "SELECT customer_id, sum(amount) AS total, count(*) AS orders FROM orders GROUP BY customer_id",
                    "300ms", "DIFFERENTIAL"));
            engine.outboxes().enable("order_totals", 24, 20);
            engine.inboxes().create(InboxSpec.of("orders_inbox"));

            Map<String, String> env = Map.of("env:PGTRICKLE_CONNECTION_URL", db.jdbcUrl(),
                    "env:PGTRICKLE_CONNECTION_USER", "postgres", "env:PGTRICKLE_CONNECTION_PASSWORD", "");
            String source = connect.configureFromJson(CONNECT.resolve("connector-source.json"), env);
            ConnectorJson sink = ConnectorJson.read(CONNECT.resolve("connector-sink.json"), env);
            // The sink example reads application events; here it reads the source's topic, each
            // change's identity being its dedup_key header, its type the op header.
            sink.config().put("topics", TOPIC);
            sink.config().put("event.id", "header:dedup_key");
            sink.config().put("event.type", "header:op");
            sink.config().put("aggregate.id", "field:payload.key.customer_id");
            connect.configure(sink.name(), sink.config());
            connect.awaitRunning(source, 1);

            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writer = new Thread(() -> write(db, writing, new Random(SEED)), "writer");
            writer.start();
            try {
                Thread.sleep(2500);
                connect.replaceWorker(); // both connectors' tasks go mid-stream
                connect.awaitRunning(source, 1);
                Thread.sleep(2000);
                connect.cluster().restartTask(source, 0);
                connect.awaitRunning(source, 1);
                Thread.sleep(1500);
            } finally {
                writing.set(false);
                writer.join();
            }
            engine.streamTables().refresh("order_totals"); // the last writes reach the outbox

            List<String> expected = positions(db);
            assertThat(expected).hasSizeGreaterThan(40);
            List<ConsumerRecord<byte[], byte[]>> records = connect.readCommitted(TOPIC, expected.size(), Duration.ofSeconds(60));
            records = connect.readCommitted(TOPIC, records.size() + 1, Duration.ofSeconds(3)); // a duplicate would show
            System.out.printf("ConnectorRoundTripIT seed %d: %d outbox changes, %d records%n", SEED, expected.size(),
                    records.size());
            assertThat(records).extracting(r -> header(r, "pgt_position")).as("every change once, in outbox order")
                    .isEqualTo(expected);

            await().atMost(Duration.ofSeconds(60)).until(() -> inboxCount(db) >= expected.size());
            Thread.sleep(1000); // a late duplicate would show
            Map<String, List<Object>> inbox = new TreeMap<>();
            for (List<Object> row : db.rows("SELECT event_id, event_type, aggregate_id, payload::text FROM pgtrickle.orders_inbox")) {
                inbox.put((String) row.get(0), List.of(row.get(1), String.valueOf(row.get(2)), JSON.readTree((String) row.get(3))));
            }
            Map<String, List<Object>> fromTopic = new TreeMap<>();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                JsonNode value = JSON.readTree(r.value());
                fromTopic.put(header(r, "dedup_key"), List.of(header(r, "op"),
                        value.path("payload").path("key").path("customer_id").asText(), value));
            }
            assertThat(inbox.keySet()).as("each change once in the inbox").containsExactlyElementsOf(fromTopic.keySet());
            assertThat(inbox).isEqualTo(fromTopic);
        }
    }

    private static Path archive(String connector) {
        String path = System.getProperty("pgtrickle." + connector + ".archive");
        assertThat(path).as("failsafe sets pgtrickle." + connector + ".archive").isNotNull();
        assertThat(Path.of(path)).exists();
        return Path.of(path);
    }

    /** Inserts orders for 15 customers, with updates and deletes of earlier ones, until told to stop. */
    private static void write(TestDatabase db, AtomicBoolean writing, Random random) {
        try (Connection c = db.connect();
             PreparedStatement insert = c.prepareStatement("INSERT INTO orders (customer_id, amount) VALUES (?, ?)");
             PreparedStatement update = c.prepareStatement("UPDATE orders SET amount = amount + ? WHERE id = ?");
             PreparedStatement delete = c.prepareStatement("DELETE FROM orders WHERE id = ?")) {
            long inserted = 0;
            while (writing.get()) {
                int op = random.nextInt(10);
                if (op < 6 || inserted < 10) {
                    insert.setInt(1, random.nextInt(15));
                    insert.setBigDecimal(2, java.math.BigDecimal.valueOf(random.nextInt(10_000), 2));
                    insert.executeUpdate();
                    inserted++;
                } else if (op < 9) {
                    update.setBigDecimal(1, java.math.BigDecimal.valueOf(random.nextInt(500), 2));
                    update.setLong(2, 1 + random.nextInt((int) inserted));
                    update.executeUpdate();
                } else {
                    delete.setLong(1, 1 + random.nextInt((int) inserted));
                    delete.executeUpdate();
                }
                Thread.sleep(10);
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Every change in the stream table's outbox, as {@code offset:row_index}, in outbox order. */
    private static List<String> positions(TestDatabase db) {
        List<String> positions = new ArrayList<>();
        for (List<Object> row : db.rows("SELECT o.outbox_offset, ch.row_index FROM pgtrickle.pgt_outbox o"
                + " CROSS JOIN LATERAL pgtrickle.outbox_changes(o.outbox_offset, -1, 2147483647) ch"
                + " WHERE o.stream_table = ? ORDER BY 1, 2", STREAM_TABLE)) {
            positions.add(row.get(0) + ":" + row.get(1));
        }
        return positions;
    }

    private static long inboxCount(TestDatabase db) {
        return ((Number) db.value("SELECT count(*) FROM pgtrickle.orders_inbox")).longValue();
    }

    private static String header(ConsumerRecord<byte[], byte[]> r, String name) {
        Header h = r.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }
}
