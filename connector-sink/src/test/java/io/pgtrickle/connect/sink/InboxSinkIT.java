package io.pgtrickle.connect.sink;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.connect.testing.ConnectTestCluster;
import io.pgtrickle.connect.testing.ConnectorJson;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.inbox.InboxSpec;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.io.IOException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.connect.runtime.rest.entities.ConfigInfo;
import org.apache.kafka.connect.runtime.rest.entities.ConfigInfos;
import org.apache.kafka.connect.runtime.rest.entities.ConnectorStateInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The sink loaded from its plugin archive into an in-process Connect worker (the connector's classes
 * are not on this JVM's class path), writing into inboxes of an embedded PostgreSQL 18.
 */
@ExtendWith(PostgresExtension.class)
class InboxSinkIT {
    private static final String CONNECTOR_CLASS = "io.pgtrickle.connect.sink.PgTrickleInboxSinkConnector";
    private static final Path EXAMPLE = Path.of("../config-examples/connect/connector-sink.json");
    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    private static TestDatabase db;
    private static PgTrickleEngine engine;
    private static ConnectTestCluster connect;
    private static KafkaProducer<byte[], byte[]> producer;

    @BeforeAll
    static void start(TestDatabase database) throws IOException {
        db = database;
        engine = PgTrickleEngine.open(EngineConfig.of(db.jdbcUrl()).withSlotName("pgtrickle_" + db.name())
                .withCaptureTimeout(Duration.ofSeconds(20)));
        connect = ConnectTestCluster.start(dir, List.of(archive()));
        Map<String, Object> p = new HashMap<>();
        p.put("acks", "all");
        producer = connect.cluster().kafka().createProducer(p);
    }

    @AfterAll
    static void stop() {
        if (producer != null) {
            producer.close();
        }
        if (connect != null) {
            connect.close();
        }
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void theConnectorIsLoadedFromThePluginArchiveOnly() {
        assertThatThrownBy(() -> Class.forName(CONNECTOR_CLASS)).isInstanceOf(ClassNotFoundException.class);
    }

    @Test
    void recordsFromTheExampleConfigLandInTheInboxOnceEach() throws Exception {
        createInbox("orders_inbox");
        connect.cluster().kafka().createTopic("orders.events", 2);
        List<RecordMetadata> sent = new ArrayList<>();
        for (int i = 0; i < 20; i++) {
            List<Header> headers = i % 2 == 0 ? List.of(header("id", "evt-" + i), header("type", "order.created"))
                    : List.of();
            sent.add(send("orders.events", i % 2, headers, "{\"type\":\"order.updated\",\"aggregate_id\":\"o-" + i
                    + "\",\"n\":" + i + "}"));
        }
        String name = connect.configureFromJson(EXAMPLE, Map.of("env:PGTRICKLE_CONNECTION_URL", db.jdbcUrl(),
                "env:PGTRICKLE_CONNECTION_USER", "postgres", "env:PGTRICKLE_CONNECTION_PASSWORD", ""));
        assertThat(name).isEqualTo("pgtrickle-inbox-sink");
        connect.awaitRunning(name, 2);
        awaitCount("orders_inbox", 20);

        Map<String, List<Object>> rows = new TreeMap<>();
        for (List<Object> r : db.rows("SELECT event_id, event_type, source, aggregate_id, (payload->>'n')::int"
                + " FROM pgtrickle.orders_inbox")) {
            rows.put((String) r.get(0), r.subList(1, r.size()));
        }
        Map<String, List<Object>> expected = new TreeMap<>();
        for (int i = 0; i < 20; i++) {
            RecordMetadata m = sent.get(i);
            String id = i % 2 == 0 ? "evt-" + i : "kafka:orders.events/" + m.partition() + "/" + m.offset();
            expected.put(id, List.of(i % 2 == 0 ? "order.created" : "order.updated", "orders.events", "o-" + i, i));
        }
        assertThat(rows).isEqualTo(expected);
        awaitOffsets(name, "orders.events", 2);
        connect.cluster().deleteConnector(name);
    }

    @Test
    void replayedRecordsAndAReplacedWorkerLeaveEachEventOnceAndTheOffsetsAtTheEnd() throws Exception {
        createInbox("replay_inbox");
        String topic = "replay.events";
        connect.cluster().kafka().createTopic(topic, 3);
        String name = "replay-sink";
        configure(name, Map.of("topics", topic, "inbox", "replay_inbox", "event.id", "header:id,field:id"));
        connect.awaitRunning(name, 2);

        AtomicReference<Exception> failed = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; i < 60; i++) {
                    sendEvent(topic, i);
                    sendEvent(topic, i); // a producer retry that wrote twice
                    Thread.sleep(25);
                }
            } catch (Exception e) {
                failed.set(e);
            }
        });
        writer.start();
        await().atMost(WAIT).until(() -> count("replay_inbox") >= 10);
        connect.replaceWorker(); // mid-stream: the writer is still sending
        writer.join();
        assertThat(failed.get()).isNull();
        for (int i = 0; i < 60; i++) {
            sendEvent(topic, i); // a replay of the whole topic's events
        }
        connect.awaitRunning(name, 2);
        awaitCount("replay_inbox", 60);
        Map<TopicPartition, Long> end = awaitOffsets(name, topic, 3);
        assertThat(end.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(180);
        assertThat(db.rows("SELECT event_id FROM pgtrickle.replay_inbox ORDER BY 1").stream().map(r -> (String) r.get(0))
                .collect(Collectors.toSet()))
                .isEqualTo(IntStream.range(0, 60).mapToObj(i -> "e" + i).collect(Collectors.toSet()));
        Thread.sleep(1000);
        assertThat(count("replay_inbox")).as("still each event once").isEqualTo(60);
        connect.cluster().deleteConnector(name);
    }

    @Test
    void aNewTaskResumesAtTheOffsetsKeptInPostgres() throws Exception {
        createInbox("resume_inbox");
        String topic = "resume.events";
        connect.cluster().kafka().createTopic(topic, 1);
        for (int i = 0; i < 10; i++) {
            send(topic, 0, List.of(), "{\"n\":" + i + "}");
        }
        String name = "resume-sink";
        db.execute("INSERT INTO pgtrickle.pgt_source_offsets (consumer, source_partition, source_position)"
                + " VALUES ('" + name + "', '" + topic + "-0', '6')");
        configure(name, Map.of("topics", topic, "inbox", "resume_inbox", "event.id", "coordinates", "tasks.max", "1"));
        connect.awaitRunning(name, 1);
        awaitCount("resume_inbox", 4);
        awaitOffsets(name, topic, 1);
        assertThat(db.rows("SELECT event_id FROM pgtrickle.resume_inbox ORDER BY 1")).extracting(r -> r.get(0))
                .containsExactly("kafka:resume.events/0/6", "kafka:resume.events/0/7", "kafka:resume.events/0/8",
                        "kafka:resume.events/0/9");
        connect.cluster().deleteConnector(name);
    }

    @Test
    void withErrorsToleranceAllAnUndecodableRecordGoesToTheDeadLetterTopic() throws Exception {
        createInbox("dlq_inbox");
        String topic = "dlq.events";
        connect.cluster().kafka().createTopic(topic, 1);
        send(topic, 0, List.of(header("id", "good-1")), "{\"n\":1}");
        send(topic, 0, List.of(header("id", "bad-1")), "not json {");
        send(topic, 0, List.of(header("id", "good-2")), "{\"n\":2}");
        String name = "dlq-sink";
        configure(name, Map.of("topics", topic, "inbox", "dlq_inbox", "tasks.max", "1",
                "errors.deadletterqueue.topic.name", "dlq.events.dead"));
        connect.awaitRunning(name, 1);
        awaitCount("dlq_inbox", 2);
        List<ConsumerRecord<byte[], byte[]>> dead = connect.readCommitted("dlq.events.dead", 1, WAIT);
        assertThat(dead).hasSize(1);
        assertThat(new String(dead.get(0).value(), StandardCharsets.UTF_8)).isEqualTo("not json {");
        Header why = dead.get(0).headers().lastHeader("__connect.errors.exception.message");
        assertThat(why).isNotNull();
        assertThat(new String(why.value(), StandardCharsets.UTF_8))
                .contains("topic dlq.events partition 0 offset 1").contains("not JSON");
        assertThat(db.rows("SELECT event_id FROM pgtrickle.dlq_inbox ORDER BY 1")).extracting(r -> r.get(0))
                .containsExactly("good-1", "good-2");
        awaitOffsets(name, topic, 1);
        connect.cluster().deleteConnector(name);
    }

    @Test
    void withErrorsToleranceNoneAnUndecodableRecordFailsTheTaskNamingIt() throws Exception {
        createInbox("strict_inbox");
        String topic = "strict.events";
        connect.cluster().kafka().createTopic(topic, 1);
        send(topic, 0, List.of(), "{\"n\":1}");
        send(topic, 0, List.of(), "{{ not json");
        String name = "strict-sink";
        Map<String, String> config = new HashMap<>(Map.of("topics", topic, "inbox", "strict_inbox", "tasks.max", "1",
                "errors.tolerance", "none"));
        configure(name, config, "errors.deadletterqueue.topic.name", "errors.deadletterqueue.topic.replication.factor",
                "errors.deadletterqueue.context.headers.enable");
        AtomicReference<String> trace = new AtomicReference<>();
        await().atMost(WAIT).until(() -> {
            ConnectorStateInfo s = connect.cluster().connectorStatus(name);
            if (s.tasks().isEmpty() || !"FAILED".equals(s.tasks().get(0).state())) {
                return false;
            }
            trace.set(s.tasks().get(0).trace());
            return true;
        });
        assertThat(trace.get()).contains("topic strict.events partition 0 offset 1").contains("not JSON")
                .contains("strict_inbox");
        connect.cluster().deleteConnector(name);
    }

    @Test
    void aLostDatabaseConnectionIsRetriedAndNoRecordIsLostOrRepeated() throws Exception {
        createInbox("retry_inbox");
        String topic = "retry.events";
        connect.cluster().kafka().createTopic(topic, 1);
        int pgPort = Integer.parseInt(db.jdbcUrl().replaceAll("^jdbc:postgresql://[^:]+:(\\d+)/.*$", "$1"));
        try (TcpProxy proxy = new TcpProxy(pgPort)) {
            String url = "jdbc:postgresql://127.0.0.1:" + proxy.port() + "/" + db.name() + "?user=postgres";
            String name = "retry-sink";
            configure(name, Map.of("topics", topic, "inbox", "retry_inbox", "event.id", "coordinates", "tasks.max", "1",
                    "connection.url", url, "retry.backoff.ms", "200"));
            connect.awaitRunning(name, 1);
            for (int i = 0; i < 5; i++) {
                send(topic, 0, List.of(), "{\"n\":" + i + "}");
            }
            awaitCount("retry_inbox", 5);

            proxy.cut();
            for (int i = 5; i < 10; i++) {
                send(topic, 0, List.of(), "{\"n\":" + i + "}");
            }
            Thread.sleep(3000);
            assertThat(count("retry_inbox")).as("nothing gets through the outage").isEqualTo(5);
            assertThat(connect.cluster().connectorStatus(name).tasks().get(0).state())
                    .as("a lost connection does not fail the task").isEqualTo("RUNNING");

            proxy.restore();
            awaitCount("retry_inbox", 10);
            awaitOffsets(name, topic, 1);
            assertThat(db.rows("SELECT (payload->>'n')::int FROM pgtrickle.retry_inbox ORDER BY 1"))
                    .extracting(r -> r.get(0)).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
            connect.cluster().deleteConnector(name);
        }
    }

    @Test
    void aRecordTheDatabaseRefusesFailsTheTaskNamingTheRecordAndTheCause() throws Exception {
        createInbox("refused_inbox");
        String topic = "refused.events";
        connect.cluster().kafka().createTopic(topic, 1);
        send(topic, 0, List.of(), "{\"n\":1}");
        // Valid JSON that jsonb refuses: a NUL character (SQLSTATE 22P05), a permanent failure.
        send(topic, 0, List.of(), "{\"n\":\"\\u0000\"}");
        String name = "refused-sink";
        configure(name, Map.of("topics", topic, "inbox", "refused_inbox", "tasks.max", "1"));
        AtomicReference<String> trace = new AtomicReference<>();
        await().atMost(WAIT).until(() -> {
            ConnectorStateInfo s = connect.cluster().connectorStatus(name);
            if (s.tasks().isEmpty() || !"FAILED".equals(s.tasks().get(0).state())) {
                return false;
            }
            trace.set(s.tasks().get(0).trace());
            return true;
        });
        assertThat(trace.get()).contains("refused-sink: record at topic refused.events partition 0 offset 1"
                + " (event id kafka:refused.events/0/1) cannot go into inbox refused_inbox: ERROR: unsupported Unicode"
                + " escape sequence").contains("(SQLSTATE 22P05)");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.refused_inbox WHERE event_id = 'kafka:refused.events/0/1'"))
                .isEqualTo(0L);
        assertThat(storedOffsets(name)).as("its batch rolled back: the offsets stay before it")
                .isIn(Map.of(), Map.of("refused.events-0", "1"));
        connect.cluster().deleteConnector(name);
    }

    @Test
    void validationPutsDatabaseAndInboxProblemsOnTheirKeys() throws Exception {
        createInbox("valid_inbox");
        Map<String, String> good = base("valid-sink", Map.of("topics", "valid.events", "inbox", "valid_inbox"));
        assertThat(errors(connect.validate(CONNECTOR_CLASS, good))).isEmpty();

        Map<String, String> noInbox = new HashMap<>(good);
        noInbox.put("inbox", "no_such_inbox");
        Map<String, List<String>> e = errors(connect.validate(CONNECTOR_CLASS, noInbox));
        assertThat(e).containsOnlyKeys("inbox");
        assertThat(e.get("inbox").get(0)).contains("there is no inbox no_such_inbox");

        Map<String, String> unreachable = new HashMap<>(good);
        unreachable.put("connection.url", "jdbc:postgresql://127.0.0.1:1/app");
        e = errors(connect.validate(CONNECTOR_CLASS, unreachable));
        assertThat(e).containsOnlyKeys("connection.url");
        assertThat(e.get("connection.url").get(0)).contains("cannot connect to jdbc:postgresql://127.0.0.1:1/app");

        Map<String, String> badRule = new HashMap<>(good);
        badRule.put("event.id", "key");
        assertThat(errors(connect.validate(CONNECTOR_CLASS, badRule))).containsOnlyKeys("event.id");
    }

    /**
     * The insert path, loaded from the archive's jars alone (plus slf4j, which the worker provides):
     * Inboxes must not need the engine jars the archive leaves out (Calcite, Debezium, Flyway).
     */
    @Test
    void theInboxClientRunsFromTheArchiveJarsAlone() throws Exception {
        createInbox("isolated_inbox");
        Path unpacked = dir.resolve("plugins/pgtrickle-connector-sink");
        List<URL> urls = new ArrayList<>();
        try (Stream<Path> jars = Files.list(unpacked)) {
            for (Path jar : jars.filter(p -> p.toString().endsWith(".jar")).collect(Collectors.toList())) {
                urls.add(jar.toUri().toURL());
            }
        }
        urls.add(org.slf4j.LoggerFactory.class.getProtectionDomain().getCodeSource().getLocation());
        try (URLClassLoader isolated = new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader());
             Connection c = db.connect()) {
            assertThatThrownBy(() -> isolated.loadClass("org.apache.calcite.sql.SqlNode"))
                    .as("the archive holds no Calcite").isInstanceOf(ClassNotFoundException.class);
            Class<?> event = isolated.loadClass("io.pgtrickle.core.inbox.InboxEvent");
            Object e = event.getMethod("of", String.class, String.class, String.class).invoke(null, "iso-1", "t", "{}");
            Method insert = isolated.loadClass("io.pgtrickle.core.inbox.Inboxes").getMethod("insert", Connection.class,
                    String.class, List.class);
            assertThat(insert.invoke(null, c, "isolated_inbox", List.of(e))).isEqualTo(1);
            Method write = isolated.loadClass("io.pgtrickle.core.inbox.SourceOffsets").getMethod("write",
                    Connection.class, String.class, Map.class);
            write.invoke(null, c, "isolated", Map.of("t-0", "1"));
        }
        assertThat(count("isolated_inbox")).isEqualTo(1);
    }

    private static Path archive() {
        String path = System.getProperty("pgtrickle.plugin.archive");
        assertThat(path).as("failsafe sets pgtrickle.plugin.archive").isNotNull();
        assertThat(Path.of(path)).exists();
        return Path.of(path);
    }

    private static void createInbox(String name) {
        engine.inboxes().create(InboxSpec.of(name).withStats(false).withDeadLetter(false));
    }

    /** The example JSON with the test database, the given keys changed and {@code removed} keys left out. */
    private static Map<String, String> base(String name, Map<String, String> changes, String... removed)
            throws IOException {
        Map<String, String> config = ConnectorJson.read(EXAMPLE, Map.of("env:PGTRICKLE_CONNECTION_URL", db.jdbcUrl(),
                "env:PGTRICKLE_CONNECTION_USER", "postgres", "env:PGTRICKLE_CONNECTION_PASSWORD", "")).config();
        config.put("name", name);
        config.putAll(changes);
        for (String r : removed) {
            config.remove(r);
        }
        return config;
    }

    private static void configure(String name, Map<String, String> changes, String... removed) throws IOException {
        Map<String, String> config = base(name, changes, removed);
        config.remove("name");
        connect.configure(name, config);
    }

    private static void sendEvent(String topic, int i) throws Exception {
        if (i % 2 == 0) {
            send(topic, i % 3, List.of(header("id", "e" + i)), "{\"n\":" + i + "}");
        } else {
            send(topic, i % 3, List.of(), "{\"id\":\"e" + i + "\",\"n\":" + i + "}");
        }
    }

    private static RecordMetadata send(String topic, int partition, List<Header> headers, String value)
            throws InterruptedException, ExecutionException {
        return producer.send(new ProducerRecord<byte[], byte[]>(topic, partition, (byte[]) null, value.getBytes(StandardCharsets.UTF_8),
                headers)).get();
    }

    private static Header header(String key, String value) {
        return new RecordHeader(key, value.getBytes(StandardCharsets.UTF_8));
    }

    private static long count(String inbox) {
        return ((Number) db.value("SELECT count(*) FROM pgtrickle." + inbox)).longValue();
    }

    private static void awaitCount(String inbox, long expected) {
        await().atMost(WAIT).until(() -> count(inbox) >= expected);
        assertThat(count(inbox)).isEqualTo(expected);
    }

    /** Waits until the offsets kept in PostgreSQL are the topic's end offsets; returns them. */
    private static Map<TopicPartition, Long> awaitOffsets(String consumer, String topic, int partitions) {
        Map<TopicPartition, Long> end = endOffsets(topic, partitions);
        Map<String, String> expected = new TreeMap<>();
        end.forEach((tp, n) -> {
            if (n > 0) {
                expected.put(tp.toString(), Long.toString(n));
            }
        });
        await().atMost(WAIT).untilAsserted(() -> assertThat(storedOffsets(consumer)).isEqualTo(expected));
        return end;
    }

    private static Map<String, String> storedOffsets(String consumer) {
        Map<String, String> out = new TreeMap<>();
        for (List<Object> r : db.rows("SELECT source_partition, source_position FROM pgtrickle.pgt_source_offsets"
                + " WHERE consumer = ?", consumer)) {
            out.put((String) r.get(0), (String) r.get(1));
        }
        return out;
    }

    private static Map<TopicPartition, Long> endOffsets(String topic, int partitions) {
        Map<String, Object> p = new HashMap<>();
        p.put("bootstrap.servers", connect.bootstrapServers());
        try (KafkaConsumer<byte[], byte[]> c = new KafkaConsumer<>(p, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            Set<TopicPartition> tps = IntStream.range(0, partitions).mapToObj(i -> new TopicPartition(topic, i))
                    .collect(Collectors.toSet());
            return new HashMap<>(c.endOffsets(tps));
        }
    }

    private static Map<String, List<String>> errors(ConfigInfos infos) {
        Map<String, List<String>> out = new HashMap<>();
        for (ConfigInfo i : infos.configs()) {
            if (!i.configValue().errors().isEmpty()) {
                out.put(i.configValue().name(), i.configValue().errors());
            }
        }
        return out;
    }
}
