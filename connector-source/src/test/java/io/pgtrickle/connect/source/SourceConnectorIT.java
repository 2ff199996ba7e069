package io.pgtrickle.connect.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgtrickle.connect.testing.ConnectTestCluster;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.connect.runtime.rest.entities.ConfigInfo;
import org.apache.kafka.connect.runtime.rest.entities.ConfigInfos;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The connector loaded from its plugin archive into a Connect worker (exactly-once source support
 * on), against stream tables the engine keeps in an embedded PostgreSQL 18; records read back with
 * {@code read_committed}.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SourceConnectorIT {
    private static final Path EXAMPLE = Path.of("..", "config-examples", "connect", "connector-source.json");
    private static Path work;
    private static PgTrickleEngine engine;
    private static ConnectTestCluster connect;
    private static TestDatabase db;

    @BeforeAll
    static void start(TestDatabase database) throws Exception {
        db = database;
        work = Files.createTempDirectory("pgtrickle-source-it");
        engine = PgTrickleEngine.open(EngineConfig.of(db.jdbcUrl()).withSlotName("pgtrickle_" + db.name())
                .withSchedulerTick(Duration.ofMillis(100))).start();
        connect = ConnectTestCluster.start(work, List.of(Path.of(System.getProperty("pgtrickle.plugin.archive"))));
    }

    @AfterAll
    static void stop() {
        if (connect != null) {
            connect.close();
        }
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void changesOfSeveralRefreshesArriveExactlyOnceInOrderWithSchemas() throws Exception {
        db.execute("CREATE TABLE orders (id int PRIMARY KEY, customer int NOT NULL, amount numeric(12,2),"
                        + " placed_at timestamptz, doc jsonb, tags int[])",
                "INSERT INTO orders VALUES (1, 10, 5.25, '2026-12-02 10:00:00+00', '{\"a\": 1}', '{1,2}'),"
                        + " (2, 10, 7.50, '2026-12-02 11:00:00+00', '{\"b\": [true]}', '{3}'),"
                        + " (3, 20, 100.00, '2026-12-02 12:00:00+00', null, '{}')");
        engine.streamTables().create(StreamTableSpec.parse("order_totals",
                "SELECT id, customer, amount, placed_at, doc, tags FROM orders", "10m", "DIFFERENTIAL"));
        engine.outboxes().enable("order_totals", 24, 2);
        String name = connect.configureFromJson(EXAMPLE, Map.of("env:PGTRICKLE_CONNECTION_URL", db.jdbcUrl(), "env:PGTRICKLE_CONNECTION_PASSWORD", "unused"));
        connect.awaitRunning(name, 1);

        db.execute("UPDATE orders SET amount = 6.00 WHERE id = 1", "INSERT INTO orders VALUES (4, 30, 1.99, now(), '[]', '{4,5}')");
        engine.streamTables().refresh("order_totals");
        db.execute("DELETE FROM orders WHERE id = 2", "UPDATE orders SET tags = '{9}' WHERE id = 3");
        engine.streamTables().refresh("order_totals");
        db.execute("UPDATE orders SET amount = amount + 1", "INSERT INTO orders VALUES (5, 10, 0.01, now(), '{}', null)");
        engine.streamTables().refresh("order_totals");

        List<String> expected = Outbox.positions(db, "public.order_totals");
        assertThat(expected).hasSizeGreaterThanOrEqualTo(3 + 2 + 2 + 4);
        List<ConsumerRecord<byte[], byte[]>> records = readAll("pgtrickle.public.order_totals", expected.size());
        assertThat(Outbox.positionsOf(records)).as("every change once, in outbox order").isEqualTo(expected);

        // In order per key: the last change of each id is its current row.
        // The record key is the outbox's row key. In order per key: replaying the last change of each
        // key gives the stream table's rows now.
        List<String> keys = Outbox.keys(db, "public.order_totals");
        Map<JsonNode, JsonNode> lastPerKey = new LinkedHashMap<>();
        for (int i = 0; i < records.size(); i++) {
            JsonNode key = Outbox.json(records.get(i).key()).path("payload");
            assertThat(key).isEqualTo(Outbox.JSON.readTree(keys.get(i)));
            lastPerKey.put(key, Outbox.json(records.get(i).value()).path("payload"));
        }
        Map<Integer, JsonNode> rows = new HashMap<>();
        for (JsonNode change : lastPerKey.values()) {
            if (!change.path("op").asText().equals("delete")) {
                rows.put(change.path("after").path("id").asInt(), change.path("after"));
            }
        }
        assertThat(rows.keySet()).containsExactlyInAnyOrder(1, 3, 4, 5);
        assertThat(rows.get(3).path("tags").toString()).isEqualTo("[9]");
        assertThat(rows.get(1).path("amount").isTextual()).isTrue(); // a Decimal is base64 bytes in JSON
        assertThat(rows.get(5).path("tags").isNull()).isTrue();

        JsonNode value = Outbox.json(records.get(0).value());
        JsonNode after = RecordBuilderTest.field(value.path("schema"), "after");
        assertThat(RecordBuilderTest.field(after, "amount").path("name").asText()).isEqualTo("org.apache.kafka.connect.data.Decimal");
        assertThat(RecordBuilderTest.field(after, "amount").path("parameters").path("scale").asText()).isEqualTo("2");
        assertThat(RecordBuilderTest.field(after, "placed_at").path("name").asText())
                .isEqualTo("org.apache.kafka.connect.data.Timestamp");
        assertThat(RecordBuilderTest.field(after, "doc").path("name").asText()).isEqualTo("io.debezium.data.Json");
        assertThat(RecordBuilderTest.field(after, "tags").path("items").path("type").asText()).isEqualTo("int32");
        assertThat(rows.get(3).path("placed_at").asLong()).isEqualTo(java.time.Instant.parse("2026-12-02T12:00:00Z").toEpochMilli());
        assertThat(Outbox.header(records.get(0), "dedup_key")).isEqualTo("public.order_totals:" + expected.get(0));
        connect.cluster().deleteConnector(name);
    }

    @Test
    void validateAttachesEachErrorToItsKey() {
        engine.streamTables().create(StreamTableSpec.parse("without_outbox", "SELECT 1 AS one", "10m", "FULL"));
        Map<String, String> config = new HashMap<>();
        config.put("connector.class", PgTrickleSourceConnector.class.getName());
        config.put("connection.url", db.jdbcUrl());
        config.put("stream.tables", "no_such_table,without_outbox");
        Map<String, List<String>> errors = errors(connect.validate(PgTrickleSourceConnector.class.getName(), config));
        assertThat(errors.get("stream.tables")).hasSize(2);
        assertThat(errors.get("stream.tables").get(0)).contains("there is no stream table no_such_table");
        assertThat(errors.get("stream.tables").get(1)).contains("public.without_outbox has no outbox")
                .contains("pgtrickle.enable_outbox");
        assertThat(errors.get("connection.url")).isEmpty();

        config.put("connection.url", "jdbc:postgresql://127.0.0.1:1/nowhere");
        config.put("connection.password", "never-shown");
        errors = errors(connect.validate(PgTrickleSourceConnector.class.getName(), config));
        assertThat(errors.get("connection.url")).singleElement().asString().contains("cannot connect to")
                .contains("check connection.url").doesNotContain("never-shown");

        config.put("connection.url", db.jdbcUrl());
        config.put("stream.tables.pattern", "public\\..*");
        errors = errors(connect.validate(PgTrickleSourceConnector.class.getName(), config));
        assertThat(errors.get("stream.tables.pattern")).singleElement().asString().contains("exactly one of");
    }

    @Test
    void aStreamTableCreatedLaterThatMatchesThePatternIsPublished() throws Exception {
        db.execute("CREATE TABLE late_source (k int PRIMARY KEY, v int NOT NULL)", "INSERT INTO late_source VALUES (1, 1)");
        engine.streamTables().create(StreamTableSpec.parse("late_a", "SELECT k, v FROM late_source", "10m", "DIFFERENTIAL"));
        engine.outboxes().enable("late_a");
        Map<String, String> config = new HashMap<>();
        config.put("connector.class", PgTrickleSourceConnector.class.getName());
        config.put("connection.url", db.jdbcUrl());
        config.put("stream.tables.pattern", "public\\.late_.*");
        config.put("tables.poll.interval.ms", "500");
        config.put("format", "debezium");
        config.put("tasks.max", "1");
        config.put("topic.creation.default.replication.factor", "-1");
        config.put("topic.creation.default.partitions", "-1");
        config.put("exactly.once.support", "required");
        config.put("transaction.boundary", "connector");
        connect.configure("late", config);
        connect.awaitRunning("late", 1);
        assertThat(readAll("pgtrickle.public.late_a", 1)).hasSize(1);

        engine.streamTables().create(StreamTableSpec.parse("late_b", "SELECT k, v * 10 AS w FROM late_source", "10m",
                "DIFFERENTIAL"));
        engine.outboxes().enable("late_b");
        db.execute("INSERT INTO late_source VALUES (2, 2)");
        engine.streamTables().refresh("late_b");
        List<ConsumerRecord<byte[], byte[]>> b = readAll("pgtrickle.public.late_b", 2);
        assertThat(Outbox.positionsOf(b)).isEqualTo(Outbox.positions(db, "public.late_b"));
        JsonNode last = Outbox.json(b.get(1).value()).path("payload");
        assertThat(last.path("op").asText()).isEqualTo("c");
        assertThat(last.path("after").path("w").asInt()).isEqualTo(20);
        assertThat(last.path("source").path("table").asText()).isEqualTo("late_b");
        connect.cluster().deleteConnector("late");
    }

    /** Waits for {@code n} records, then a little longer so that a duplicate would show. */
    private static List<ConsumerRecord<byte[], byte[]>> readAll(String topic, int n) {
        List<ConsumerRecord<byte[], byte[]>> records = connect.readCommitted(topic, n, Duration.ofSeconds(60));
        assertThat(records).as("records of " + topic).hasSizeGreaterThanOrEqualTo(n);
        return connect.readCommitted(topic, n + 1, Duration.ofSeconds(3));
    }

    private static Map<String, List<String>> errors(ConfigInfos infos) {
        Map<String, List<String>> errors = new HashMap<>();
        for (ConfigInfo i : infos.configs()) {
            errors.put(i.configValue().name(), new ArrayList<>(i.configValue().errors()));
        }
        return errors;
    }
}
