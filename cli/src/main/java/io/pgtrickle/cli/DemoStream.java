package io.pgtrickle.cli;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.pgtrickle.kafka.InProcessKafka;
import io.pgtrickle.bench.messaging.KafkaMessaging;
import io.pgtrickle.bench.messaging.Messaging;
import io.pgtrickle.bench.messaging.NatsMessaging;
import io.pgtrickle.bench.messaging.RedisMessaging;
import io.pgtrickle.relay.config.ConfigLoader;
import io.pgtrickle.relay.runtime.Relay;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The demo's streaming half: a stream table's outbox published by the relay (in this process) to a
 * Kafka broker started in this JVM, and to NATS JetStream and Redis when they run on localhost;
 * one real consumer per target reads the changes back, and the demo prints them with their lag
 * from the source COMMIT.
 */
final class DemoStream implements AutoCloseable {
    // Exact numbers: numeric(10,2) payrolls print as 580000.00, as PostgreSQL wrote them.
    private static final ObjectMapper JSON = JsonMapper.builder().enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES).build();
    private static final String NATS_URL = "nats://127.0.0.1:4222";
    private static final String REDIS_URL = "redis://127.0.0.1:6379";

    /** A change as a consumer received it. */
    private record Received(Instant at, JsonNode change) {
    }

    /** One target, its destination, and what its consumer has received so far. */
    private record Feed(Messaging messaging, String destination, List<Received> received) {
        String label() {
            return messaging.name();
        }
    }

    private final String streamTable;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private final List<Feed> feeds = new ArrayList<>();
    private int shown;

    private DemoStream(String streamTable) {
        this.streamTable = streamTable;
    }

    /**
     * Starts the broker, the relay and the consumers for {@code streamTable}, whose outbox must be
     * enabled; tells {@code out} where each change goes.
     */
    static DemoStream start(String jdbcUrl, String streamTable, PrintWriter out) throws Exception {
        DemoStream stream = new DemoStream(streamTable);
        try {
            stream.startAll(jdbcUrl, out);
            return stream;
        } catch (Exception | Error e) {
            stream.close();
            throw e;
        }
    }

    private void startAll(String jdbcUrl, PrintWriter out) throws Exception {
        String run = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);
        InProcessKafka kafka = InProcessKafka.start();
        resources.add(0, kafka);
        add(new KafkaMessaging(kafka.bootstrapServers()), "pgtrickle." + streamTable);
        if (natsWithJetStream()) {
            add(new NatsMessaging(NATS_URL), "pgtrickle_demo_" + run);
        }
        if (listening("127.0.0.1", 6379)) {
            add(new RedisMessaging(REDIS_URL), "pgtrickle:demo:" + run + ":" + streamTable);
        }
        StringBuilder toml = new StringBuilder("postgres_url = \"" + jdbcUrl + "\"\nmetrics_addr = \"127.0.0.1:0\"\n"
                + "relay_group_id = \"demo-" + run + "\"\n");
        for (Feed f : feeds) {
            toml.append("\n[[pipeline]]\nname = \"to-").append(f.label()).append("\"\ndirection = \"forward\"\n")
                    .append("[pipeline.source]\nstream_table = \"").append(streamTable).append("\"\n")
                    .append("[pipeline.sink]\n").append(f.messaging().sinkToml(f.destination()));
        }
        resources.add(0, Relay.start(ConfigLoader.parse(toml.toString(), "demo-relay.toml", Map.of()),
                new PrintStream(OutputStream.nullOutputStream())));
        for (Feed f : feeds) {
            out.println("  " + String.format("%-9s", f.label()) + describe(f, kafka));
        }
        if (feeds.size() < 3) {
            out.println("  (NATS with JetStream on 127.0.0.1:4222 and Redis on 127.0.0.1:6379 join in when they run)");
        }
        out.flush();
    }

    private void add(Messaging messaging, String destination) throws Exception {
        resources.add(0, messaging);
        messaging.prepare(destination);
        List<Received> received = new CopyOnWriteArrayList<>();
        feeds.add(new Feed(messaging, destination, received));
        resources.add(0, () -> {
            if (!(messaging instanceof KafkaMessaging)) {
                messaging.remove(destination);
            }
        });
        AutoCloseable reader = messaging.read(destination, value -> received.add(new Received(Instant.now(),
                parse(value))));
        resources.add(0, reader);
    }

    private static String describe(Feed f, InProcessKafka kafka) {
        switch (f.label()) {
            case "kafka":
                return "topic " + f.destination() + " on a broker in this JVM (" + kafka.bootstrapServers()
                        + "), read back by a read_committed consumer";
            case "nats":
                return "JetStream stream " + f.destination().toUpperCase(java.util.Locale.ROOT) + " on " + NATS_URL
                        + ", read back by an ordered consumer";
            default:
                return "stream " + f.destination() + " on " + REDIS_URL + ", read back with XREAD";
        }
    }

    private static JsonNode parse(byte[] value) {
        try {
            return JSON.readTree(value);
        } catch (IOException e) {
            return JSON.createObjectNode().put("undecodable", e.getMessage());
        }
    }

    /**
     * Waits until every consumer has every change the outbox holds, then prints the changes that
     * are new since the last call with their lag from {@code committed} (none when null: the
     * starting contents). Kafka's are listed; the other targets get a line each.
     */
    void report(java.sql.Connection c, Instant committed, Duration timeout, PrintWriter out)
            throws SQLException, InterruptedException {
        long total = outboxChanges(c);
        long deadline = System.nanoTime() + timeout.toNanos();
        for (Feed f : feeds) {
            while (f.received().size() < total && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        }
        Feed first = feeds.get(0);
        List<Received> fresh = first.received().subList(Math.min(shown, first.received().size()),
                first.received().size());
        out.println();
        if (committed == null) {
            out.println("  streamed  " + fresh.size() + " changes of " + streamTable + ": its contents when the outbox"
                    + " was enabled (the outbox's first entry), then each refresh's delta:");
        } else {
            out.println("  streamed  " + fresh.size() + (fresh.size() == 1 ? " change" : " changes") + " of "
                    + streamTable + " (" + total + " since the outbox was enabled):");
        }
        for (Received r : fresh) {
            JsonNode ch = r.change();
            JsonNode row = ch.path("after").isObject() ? ch.path("after") : ch.path("before");
            out.println(String.format("    %-5s %-6s %-32s %s", first.label(), ch.path("op").asText(),
                    row.toString(), lag(committed, r.at())));
        }
        for (Feed f : feeds.subList(1, feeds.size())) {
            List<Received> all = f.received();
            List<Received> fresh2 = all.subList(Math.min(shown, all.size()), all.size());
            Instant last = fresh2.isEmpty() ? null : fresh2.get(fresh2.size() - 1).at();
            out.println(String.format("    %-5s %d %s, the last %s", f.label(), fresh2.size(),
                    fresh2.size() == 1 ? "change" : "changes", last == null ? "-" : lag(committed, last)));
        }
        for (Feed f : feeds) {
            if (f.received().size() != total) {
                out.println("    " + f.label() + ": " + f.received().size() + " of " + total
                        + " changes arrived within " + timeout.toSeconds() + " s");
            }
        }
        shown = (int) total;
        out.flush();
    }

    private static String lag(Instant committed, Instant at) {
        return committed == null ? "" : Formats.seconds(Duration.between(committed, at)) + " after COMMIT";
    }

    private long outboxChanges(java.sql.Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(sum(row_count), 0) FROM pgtrickle.pgt_outbox"
                + " WHERE stream_table = ?")) {
            ps.setString(1, "public." + streamTable);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getLong(1);
            }
        }
    }

    /** Whether every consumer has exactly the outbox's changes. */
    boolean complete(java.sql.Connection c) throws SQLException {
        long total = outboxChanges(c);
        return feeds.stream().allMatch(f -> f.received().size() == total);
    }

    private static boolean natsWithJetStream() {
        if (!listening("127.0.0.1", 4222)) {
            return false;
        }
        try (Connection nats = Nats.connect(new Options.Builder().server(NATS_URL)
                .connectionTimeout(Duration.ofSeconds(1)).maxReconnects(0).build())) {
            nats.jetStreamManagement().getAccountStatistics();
            return true;
        } catch (Exception e) {
            return false;
        }
    }

    private static boolean listening(String host, int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 300);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception ignored) {
                // the demo is over; what it printed stands
            }
        }
        resources.clear();
    }
}
