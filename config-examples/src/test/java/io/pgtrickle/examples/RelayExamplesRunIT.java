package io.pgtrickle.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PublishOptions;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.relay.config.ConfigLoader;
import io.pgtrickle.relay.config.RelayConfig;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.runtime.Relay;
import io.pgtrickle.relay.testing.KafkaTestCluster;
import io.pgtrickle.relay.testing.Positions;
import io.pgtrickle.relay.testing.PrivateNatsServer;
import io.pgtrickle.relay.testing.PrivateRedisServer;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.resps.StreamEntry;

/**
 * Runs the example relay configs of config-examples/ end to end: each file is loaded by the relay's
 * own loader with only its server addresses pointed at this test's servers (everything else,
 * credentials included, as written), the relay runs it, and an independent client of the target
 * checks what arrived. The servers require the credentials the files name: a redis-server with
 * {@code --requirepass}, nats-servers with {@code --auth} and {@code --user/--pass}.
 *
 * <p>Each test has a database and an engine of its own (the examples share the stream table
 * {@code order_totals}), on the server of {@link PostgresExtension}.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class RelayExamplesRunIT {
    private static final Path EXAMPLES = Path.of("").toAbsolutePath();
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Duration DELIVERY = Duration.ofSeconds(30);
    /** How long a count must stay put to count as final: nothing delivered twice after the last change. */
    private static final Duration SETTLED = Duration.ofMillis(800);
    private static final AtomicInteger DATABASES = new AtomicInteger();
    /** The values of the ${ENV:...} secrets of the examples; the servers below require them. */
    private static final Map<String, String> ENV = Map.of("PGPASSWORD", "pg-example-secret",
            "NATS_TOKEN", "nats-example-token", "NATS_PASSWORD", "nats-example-password",
            "REDIS_PASSWORD", "redis-example-password");

    private static KafkaTestCluster kafka;
    private static Admin kafkaAdmin;
    private static PrivateRedisServer redis;
    private static PrivateRedisServer openRedis;
    private static PrivateNatsServer tokenNats;
    private static PrivateNatsServer userNats;

    private final TestDatabase classDatabase;
    private TestDatabase shop;
    private PgTrickleEngine engine;

    RelayExamplesRunIT(TestDatabase classDatabase) {
        this.classDatabase = classDatabase;
    }

    @BeforeAll
    static void startServers() throws Exception {
        kafka = KafkaTestCluster.start();
        kafkaAdmin = kafka.admin();
        redis = PrivateRedisServer.started(false, ENV.get("REDIS_PASSWORD"));
        openRedis = PrivateRedisServer.started(false); // relay-reverse.toml's Redis has no password
        tokenNats = PrivateNatsServer.startedWithToken(ENV.get("NATS_TOKEN"));
        userNats = PrivateNatsServer.startedWithUser("relay", ENV.get("NATS_PASSWORD"));
    }

    @AfterAll
    static void stopServers() throws Exception {
        for (AutoCloseable server : new AutoCloseable[] {userNats, tokenNats, openRedis, redis, kafkaAdmin, kafka}) {
            if (server != null) {
                server.close();
            }
        }
    }

    @BeforeEach
    void openShop() {
        shop = TestDatabase.create(classDatabase.server(), classDatabase.name() + "_" + DATABASES.incrementAndGet());
        engine = PgTrickleEngine.open(EngineConfig.of(shop.jdbcUrl()).withSlotName("pgtrickle_" + shop.name())
                .withSchedulerTick(Duration.ofMillis(100))).start();
    }

    @AfterEach
    void closeShop() throws Exception {
        if (engine != null) {
            engine.close();
        }
        if (shop != null) {
            shop.drop();
        }
    }

    @Test
    void theRedisExampleDeliversEveryChangeOnceToAPasswordProtectedRedis(@TempDir Path dir) throws Exception {
        RelayConfig config = load(dir, "relay-redis.toml", Map.of("redis://127.0.0.1:6379", redis.url()));
        assertThat(((SinkConfig.Redis) config.pipelines().get(0).sink()).endpoint().password().reveal())
                .isEqualTo(ENV.get("REDIS_PASSWORD"));
        createOrderTotals();
        try (Relay relay = Relay.start(config, quiet());
             RedisClient client = RedisClient.builder().hostAndPort("127.0.0.1", redis.port())
                     .clientConfig(DefaultJedisClientConfig.builder().password(ENV.get("REDIS_PASSWORD")).build())
                     .build()) {
            Supplier<List<Delivered>> stream = () -> {
                List<Delivered> out = new ArrayList<>();
                for (StreamEntry e : client.xrange("shop:order_totals", (StreamEntryID) null, (StreamEntryID) null,
                        Integer.MAX_VALUE)) {
                    out.add(Delivered.nativeFormat("shop:order_totals", e.getFields().get("pgt_position"),
                            e.getFields().get("value")));
                }
                return out;
            };
            changeOrders(stream);
            assertOrderTotalsDelivered(stream, "shop:order_totals");
        }
        try (RedisClient anonymous = RedisClient.builder().hostAndPort("127.0.0.1", redis.port()).build()) {
            assertThatThrownBy(() -> anonymous.xlen("shop:order_totals")).hasMessageContaining("NOAUTH");
        }
    }

    @Test
    void theNatsExampleDeliversEveryChangeOnceToATokenProtectedJetStreamOnASubjectPerOp(@TempDir Path dir)
            throws Exception {
        RelayConfig config = load(dir, "relay-nats.toml", Map.of("nats://127.0.0.1:4222", tokenNats.url()));
        createOrderTotals();
        try (Relay relay = Relay.start(config, quiet());
             Connection nats = Nats.connect(Options.builder().server(tokenNats.url())
                     .token(ENV.get("NATS_TOKEN").toCharArray()).build())) {
            JetStreamManagement jsm = nats.jetStreamManagement();
            Supplier<List<Delivered>> stream = () -> natsMessages(jsm, "PGTRICKLE");
            changeOrders(stream);
            // The subject is shop.{stream_table}.{op}, e.g. shop.order_totals.update.
            assertOrderTotalsDelivered(stream, "shop.order_totals.{op}");
            StreamConfiguration created = jsm.getStreamInfo("PGTRICKLE").getConfiguration();
            assertThat(created.getSubjects()).containsExactly("shop.order_totals.*");
            assertThat(created.getDuplicateWindow()).isEqualTo(Duration.ofMinutes(10));
            for (long seq = 1; seq <= jsm.getStreamInfo("PGTRICKLE").getStreamState().getLastSequence(); seq++) {
                MessageInfo m = jsm.getMessage("PGTRICKLE", seq);
                assertThat(m.getHeaders().getFirst("Nats-Msg-Id")).isEqualTo(m.getHeaders().getFirst("dedup_key"));
            }
        }
        assertThatThrownBy(() -> Nats.connect(tokenNats.url())).hasMessageContaining("Authorization Violation");
    }

    @Test
    void theKafkaExampleDeliversEveryChangeOnceInBothFormatsToItsTopics(@TempDir Path dir) throws Exception {
        Map<String, String> addresses = Map.of("localhost:9092", kafka.bootstrapServers(),
                "127.0.0.1:9464", "127.0.0.1:0");
        // As written, the second pipeline reads its SASL login from kafka-jaas.conf next to the file.
        RelayConfig asWritten = load(dir, "relay-kafka.toml", addresses);
        assertThat(((SinkConfig.Kafka) asWritten.pipelines().get(1).sink()).endpoint().properties()
                .get("sasl.jaas.config")
                .reveal()).isEqualTo(Files.readString(EXAMPLES.resolve("kafka-jaas.conf")).strip());
        // The in-process broker has a PLAINTEXT listener only, no SASL: the second pipeline's three
        // security properties are dropped (a SASL_PLAINTEXT client could not connect to it); every
        // other line of the file stays as written.
        Map<String, String> withoutSasl = new LinkedHashMap<>(addresses);
        withoutSasl.put("\"security.protocol\" = \"SASL_PLAINTEXT\"\n", "");
        withoutSasl.put("\"sasl.mechanism\" = \"PLAIN\"\n", "");
        withoutSasl.put("\"sasl.jaas.config\" = \"${FILE:kafka-jaas.conf}\"   # read from a file next to this one\n",
                "");
        RelayConfig config = load(dir, "relay-kafka.toml", withoutSasl);
        shop.execute("CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, city text NOT NULL)");
        createStreamTable("customer_summary", "SELECT city, count(*) AS customers FROM customers GROUP BY city");
        createOrderTotals();
        try (Relay relay = Relay.start(config, quiet())) {
            Supplier<List<Delivered>> orders = () -> kafkaRecords("shop.order_totals", false);
            Supplier<List<Delivered>> customers = () -> kafkaRecords("cdc.customer_summary", true);
            step(orders, 2, customers, 2, "INSERT INTO orders VALUES (1, 7, 10), (2, 8, 20)",
                    "INSERT INTO customers VALUES (1, 'Ann', 'Oslo'), (2, 'Bob', 'Rome')");
            step(orders, 3, customers, 4, "UPDATE orders SET amount = 15 WHERE id = 1",
                    "UPDATE customers SET city = 'Oslo' WHERE id = 2");
            step(orders, 4, customers, 5, "INSERT INTO orders VALUES (3, 7, 5)", "DELETE FROM customers WHERE id = 1");
            step(orders, 5, customers, 5, "DELETE FROM orders WHERE id = 2");
            assertOrderTotalsDelivered(orders, "shop.order_totals");

            List<Delivered> cdc = customers.get();
            assertThat(cdc).extracting(Delivered::destination).containsOnly("cdc.customer_summary");
            assertThat(cdc).extracting(Delivered::position)
                    .containsExactlyElementsOf(Positions.inOutbox(shop, "public.customer_summary"));
            assertThat(byKey(cdc)).containsExactly(
                    Map.entry("Oslo", List.of("c customers=1", "u customers=2", "u customers=1")),
                    Map.entry("Rome", List.of("c customers=1", "d")));
        }
    }

    @Test
    void theReverseExampleFillsEachInboxOnceFromKafkaNatsWithAPasswordAndRedis(@TempDir Path dir) throws Exception {
        RelayConfig config = load(dir, "relay-reverse.toml", Map.of("localhost:9092", kafka.bootstrapServers(),
                "nats://127.0.0.1:4222", userNats.url(), "redis://127.0.0.1:6379", openRedis.url()));
        for (String inbox : List.of("payments_inbox", "shipments_inbox", "returns_inbox")) {
            shop.value("SELECT pgtrickle.await_request(?, '30 seconds')",
                    shop.value("SELECT pgtrickle.create_inbox(?)", inbox));
        }
        kafka.createTopic("payments", 1);
        try (Connection nats = Nats.connect(Options.builder().server(userNats.url())
                .userInfo("relay", ENV.get("NATS_PASSWORD")).build())) {
            nats.jetStreamManagement().addStream(StreamConfiguration.builder().name("SHIPMENTS")
                    .subjects("shipments.>").storageType(StorageType.File).build());
            try (Relay relay = Relay.start(config, quiet());
                 KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(kafka.producerProperties());
                 RedisClient client = RedisClient.builder().hostAndPort("127.0.0.1", openRedis.port()).build()) {
                for (String[] p : new String[][] {{"pay-1", "41"}, {"pay-2", "42"}, {"pay-1", "41"}}) {
                    ProducerRecord<byte[], byte[]> r = new ProducerRecord<>("payments", bytes("order-" + p[1]),
                            bytes("{\"type\": \"payment.captured\", \"payment\": {\"order_id\": " + p[1] + "}}"));
                    r.headers().add("event_id", bytes(p[0]));
                    producer.send(r).get();
                }
                // event_id = "coordinates": the stream sequence. A repeated publish (same Nats-Msg-Id)
                // is dropped by JetStream's duplicate window, so it never gets a sequence of its own.
                List<Boolean> duplicate = new ArrayList<>();
                for (String[] s : new String[][] {{"shipments.created", "ship-1"}, {"shipments.delivered", "ship-2"},
                        {"shipments.created", "ship-1"}}) {
                    duplicate.add(nats.jetStream().publish(s[0], bytes("{\"shipment\": \"" + s[1] + "\"}"),
                            PublishOptions.builder().messageId(s[1]).build()).isDuplicate());
                }
                assertThat(duplicate).containsExactly(false, false, true);
                for (String id : List.of("ret-1", "ret-2", "ret-1")) {
                    client.xadd("returns", StreamEntryID.NEW_ENTRY,
                            Map.of("value", "{\"return_id\": \"" + id + "\", \"order\": 7}"));
                }
                await().atMost(DELIVERY).until(() -> inboxSize("payments_inbox") + inboxSize("shipments_inbox")
                        + inboxSize("returns_inbox") == 6);
                await().during(SETTLED).atMost(DELIVERY).until(() -> inboxSize("payments_inbox")
                        + inboxSize("shipments_inbox") + inboxSize("returns_inbox") == 6);
            }
        }
        assertThat(shop.rows("SELECT event_id, event_type, aggregate_id, source FROM pgtrickle.payments_inbox"
                + " ORDER BY event_id")).containsExactly(List.of("pay-1", "payment.captured", "41", "payments"),
                List.of("pay-2", "payment.captured", "42", "payments"));
        assertThat(shop.rows("SELECT event_id, source FROM pgtrickle.shipments_inbox ORDER BY event_id"))
                .containsExactly(List.of("nats:SHIPMENTS/1", "shipments.created"),
                        List.of("nats:SHIPMENTS/2", "shipments.delivered"));
        assertThat(shop.rows("SELECT event_id, source FROM pgtrickle.returns_inbox ORDER BY event_id"))
                .containsExactly(List.of("ret-1", "returns"), List.of("ret-2", "returns"));
        assertThatThrownBy(() -> Nats.connect(userNats.url())).hasMessageContaining("Authorization Violation");
    }

    @Test
    void theEmbeddedStdoutExamplePrintsTheChangesOnceTheDocumentedCommandsCreateOrders(@TempDir Path dir)
            throws Exception {
        int port = freePort();
        RelayConfig config = load(dir, "relay-stdout-embedded.toml", Map.of("port = 54330", "port = " + port,
                "data_dir = \"pgtrickle-data\"", "data_dir = \"" + dir.resolve("pgtrickle-data") + "\""));
        // The commands the file's comment gives, run as written (psql -c '...').
        Matcher command = Pattern.compile("psql -h 127\\.0\\.0\\.1 -p 54330 -U postgres -c '([^']*)'")
                .matcher(Files.readString(EXAMPLES.resolve("relay-stdout-embedded.toml")));
        List<String> documented = new ArrayList<>();
        while (command.find()) {
            documented.add(command.group(1));
        }
        assertThat(documented).hasSize(2);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (Relay relay = Relay.start(config, new PrintStream(out, true, StandardCharsets.UTF_8))) {
            String url = "jdbc:postgresql://127.0.0.1:" + port + "/postgres?user=postgres";
            execute(url, documented.get(0), documented.get(1));
            Supplier<List<Delivered>> lines = () -> stdout(out);
            await().atMost(DELIVERY).until(() -> lines.get().size() == 1);
            execute(url, "UPDATE orders SET amount = 20 WHERE id = 1");
            await().atMost(DELIVERY).until(() -> lines.get().size() == 2);
            execute(url, "DELETE FROM orders");
            await().atMost(DELIVERY).until(() -> lines.get().size() == 3);
            await().during(SETTLED).atMost(DELIVERY).until(() -> lines.get().size() == 3);
            assertThat(byKey(lines.get())).containsExactly(Map.entry("7", List.of("insert orders=2 total=15",
                    "update orders=2 total=25", "delete")));
        }
    }

    // ---- the examples

    /**
     * {@code name} as the relay loads it, from a copy in {@code dir} (next to a copy of the files it
     * reads) in which each key of {@code replacements} (a server address) is replaced, and
     * postgres_url names the test database; the secrets come from {@link #ENV}.
     */
    private RelayConfig load(Path dir, String name, Map<String, String> replacements) throws IOException {
        String text = Files.readString(EXAMPLES.resolve(name));
        for (Map.Entry<String, String> r : replacements.entrySet()) {
            assertThat(text).as(name + " contains " + r.getKey()).contains(r.getKey());
            text = text.replace(r.getKey(), r.getValue());
        }
        text = text.replaceAll("(?m)^postgres_url = \"[^\"]*\"",
                Matcher.quoteReplacement("postgres_url = \"" + shop.jdbcUrl() + "\""));
        Files.copy(EXAMPLES.resolve("kafka-jaas.conf"), dir.resolve("kafka-jaas.conf"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path copy = Files.writeString(dir.resolve(name), text);
        return ConfigLoader.load(copy, ENV);
    }

    // ---- the stream tables and their changes

    private void createOrderTotals() {
        shop.execute("CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, amount int NOT NULL)");
        createStreamTable("order_totals",
                "SELECT customer_id, sum(amount) AS total, count(*) AS orders FROM orders GROUP BY customer_id");
    }

    private void createStreamTable(String name, String query) {
        shop.value("SELECT pgtrickle.await_request(?, '30 seconds')",
                shop.value("SELECT pgtrickle.create_stream_table(?, ?, '200ms', 'DIFFERENTIAL')", name, query));
        shop.execute("SELECT pgtrickle.enable_outbox('" + name + "')");
    }

    /** Inserts, an update, another insert and a delete on orders, each delivered before the next. */
    private void changeOrders(Supplier<List<Delivered>> delivered) {
        step(delivered, 2, delivered, 2, "INSERT INTO orders VALUES (1, 7, 10), (2, 8, 20)");
        step(delivered, 3, delivered, 3, "UPDATE orders SET amount = 15 WHERE id = 1");
        step(delivered, 4, delivered, 4, "INSERT INTO orders VALUES (3, 7, 5)");
        step(delivered, 5, delivered, 5, "DELETE FROM orders WHERE id = 2");
    }

    /** Runs the statements, then waits until each target holds its number of messages, and no more. */
    private void step(Supplier<List<Delivered>> first, int firstCount, Supplier<List<Delivered>> second,
                      int secondCount, String... statements) {
        shop.execute(statements);
        await().atMost(DELIVERY).until(() -> first.get().size() >= firstCount && second.get().size() >= secondCount);
        assertThat(first.get()).hasSize(firstCount);
        assertThat(second.get()).hasSize(secondCount);
    }

    /** Every change of order_totals once, in the outbox's order, and per customer the changes made. */
    private void assertOrderTotalsDelivered(Supplier<List<Delivered>> target, String destination) throws Exception {
        await().during(SETTLED).atMost(DELIVERY).until(() -> target.get().size() == 5);
        List<Delivered> delivered = target.get();
        assertThat(delivered).extracting(Delivered::position)
                .containsExactlyElementsOf(Positions.inOutbox(shop, "public.order_totals"));
        assertThat(delivered).allSatisfy(d -> assertThat(d.destination())
                .isEqualTo(destination.replace("{op}", d.op())));
        assertThat(byKey(delivered)).containsExactly(
                Map.entry("7", List.of("insert orders=1 total=10", "update orders=1 total=15",
                        "update orders=2 total=20")),
                Map.entry("8", List.of("insert orders=1 total=20", "delete")));
    }

    /** Per key (in order of first appearance), its changes in delivery order. */
    private static Map<String, List<String>> byKey(List<Delivered> delivered) {
        Map<String, List<String>> out = new LinkedHashMap<>();
        for (Delivered d : delivered) {
            out.computeIfAbsent(d.key(), k -> new ArrayList<>()).add(d.change());
        }
        return out;
    }

    private long inboxSize(String inbox) {
        return (Long) shop.value("SELECT count(*) FROM pgtrickle." + inbox);
    }

    // ---- the targets, read by clients of their own

    private static List<Delivered> natsMessages(JetStreamManagement jsm, String stream) {
        try {
            StreamInfo info;
            try {
                info = jsm.getStreamInfo(stream);
            } catch (JetStreamApiException notYet) {
                return List.of();
            }
            List<Delivered> out = new ArrayList<>();
            for (long seq = 1; seq <= info.getStreamState().getLastSequence(); seq++) {
                MessageInfo m = jsm.getMessage(stream, seq);
                out.add(Delivered.nativeFormat(m.getSubject(), m.getHeaders().getFirst("pgt_position"),
                        new String(m.getData(), StandardCharsets.UTF_8)));
            }
            return out;
        } catch (IOException | JetStreamApiException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<Delivered> kafkaRecords(String topic, boolean debezium) {
        try {
            if (!kafkaAdmin.listTopics().names().get().contains(topic)) {
                return List.of(); // the relay has not created it yet (reading it would wait for it)
            }
        } catch (InterruptedException | ExecutionException e) {
            throw new IllegalStateException(e);
        }
        List<KafkaTestCluster.Record> records = kafka.readCommitted(topic);
        return records.stream().map(r -> debezium
                ? Delivered.debeziumFormat(r.topic(), r.headers().get("pgt_position"), r.key(), r.value())
                : Delivered.nativeFormat(r.topic(), r.headers().get("pgt_position"), r.value())).toList();
    }

    private static List<Delivered> stdout(ByteArrayOutputStream out) {
        List<Delivered> lines = new ArrayList<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                lines.add(Delivered.nativeFormat("stdout", null, line));
            }
        }
        return lines;
    }

    /**
     * One delivered change: where it went, its outbox position, its op, its key (the group's value)
     * and what it says, e.g. {@code update orders=1 total=15} or {@code delete}.
     */
    private record Delivered(String destination, String position, String op, String key, String change) {
        static Delivered nativeFormat(String destination, String position, String value) {
            JsonNode v = tree(value);
            String op = v.get("op").asText();
            return new Delivered(destination, position, op, firstValue(v.get("key")),
                    op + columns(v.get("after"), v.get("key")));
        }

        static Delivered debeziumFormat(String destination, String position, String key, String value) {
            JsonNode v = tree(value);
            String op = v.get("op").asText();
            return new Delivered(destination, position, op, firstValue(tree(key)),
                    op + columns(v.get("after"), tree(key)));
        }

        /** The columns of a row but the key's, by name, as {@code " name=value..."}; empty for none. */
        private static String columns(JsonNode row, JsonNode key) {
            StringBuilder s = new StringBuilder();
            if (row != null && !row.isNull()) {
                List<String> names = new ArrayList<>();
                row.fieldNames().forEachRemaining(n -> {
                    if (!key.has(n)) {
                        names.add(n);
                    }
                });
                names.sort(null);
                for (String n : names) {
                    s.append(' ').append(n).append('=').append(row.get(n).asText());
                }
            }
            return s.toString();
        }

        private static String firstValue(JsonNode key) {
            return key.elements().next().asText();
        }

        private static JsonNode tree(String json) {
            try {
                return JSON.readTree(json);
            } catch (IOException e) {
                throw new IllegalStateException("not JSON: " + json, e);
            }
        }
    }

    // ---- small things

    private static PrintStream quiet() {
        return new PrintStream(PrintStream.nullOutputStream());
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void execute(String url, String... statements) throws Exception {
        try (java.sql.Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
