package io.pgtrickle.bench.relay;

import io.pgtrickle.bench.Csv;
import io.pgtrickle.bench.messaging.KafkaMessaging;
import io.pgtrickle.bench.messaging.Messaging;
import io.pgtrickle.bench.messaging.NatsMessaging;
import io.pgtrickle.bench.messaging.RedisMessaging;
import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.Pacer;
import io.pgtrickle.bench.Quantiles;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.outbox.OutboxChange;
import io.pgtrickle.core.outbox.OutboxDelta;
import io.pgtrickle.format.ChangeEvent;
import io.pgtrickle.format.NativeFormat;
import io.pgtrickle.relay.config.ConfigLoader;
import io.pgtrickle.relay.pipeline.PipelineState;
import io.pgtrickle.relay.runtime.Relay;
import io.pgtrickle.relay.target.OutboundMessage;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The relay end to end against one target, in three phases over one stream table
 * ({@code SELECT id, v, note FROM <source>}, DIFFERENTIAL, outbox enabled):
 * <ol>
 * <li><b>drain</b>: {@code changes} source rows inserted and refreshed into the outbox first; then the
 *     relay starts and an independent reader waits for every change. Changes per second from the
 *     relay's start to the last arrival, start included.</li>
 * <li><b>direct</b>: the same messages, byte for byte (read back from the outbox and encoded as the
 *     relay does), written to a second destination by the target's plain client; the same reader
 *     kind. The physical limit of the server here.</li>
 * <li><b>latency</b>: a writer inserts at {@code rate} rows per second for {@code duration} while the
 *     engine refreshes on its schedule and the relay publishes; per row, from its writer's commit to
 *     its arrival at the reader.</li>
 * </ol>
 * Every phase also counts the rows that did not arrive and those that arrived more than once.
 */
public final class RelayBench {
    private static final int LOAD_CHUNK = 10_000;

    public record Options(int changes, int rate, Duration duration, int rowsPerTransaction, int batchSize,
                          String schedule, Duration drainTimeout) {
    }

    /** Changes delivered in one throughput phase. */
    public record Throughput(long changes, Duration took, long missing, long repeated) {
        public double perSecond() {
            return changes / (took.toNanos() / 1e9);
        }
    }

    /** Commit-to-reader latency of the rows written at a steady rate. */
    public record Latency(long rows, Duration writing, Quantiles quantiles, long missing, long repeated) {
        public double writtenPerSecond() {
            return rows / (writing.toNanos() / 1e9);
        }
    }

    public record Result(String target, String server, Throughput relay, Duration relayStart, Throughput direct,
                         Latency latency) {
    }

    private final PgTrickleEngine engine;
    private final EngineConfig database;
    private final Options options;
    private final Consumer<String> progress;

    /** @param database where the relay connects (the engine's database) */
    public RelayBench(PgTrickleEngine engine, EngineConfig database, Options options, Consumer<String> progress) {
        this.engine = engine;
        this.database = database;
        this.options = options;
        this.progress = progress;
    }

    /** Where the targets are. */
    public record Servers(String kafkaBootstrapServers, String natsUrl, String redisUrl) {
    }

    public static final List<String> TARGETS = List.of("kafka", "nats", "redis");

    /** Runs the three phases against {@code target} (one of {@link #TARGETS}). */
    public Result run(String target, Servers servers) throws Exception {
        try (Messaging t = open(target, servers)) {
            return run(t);
        }
    }

    private static Messaging open(String target, Servers servers) throws Exception {
        switch (target) {
            case "kafka":
                return new KafkaMessaging(servers.kafkaBootstrapServers());
            case "nats":
                return new NatsMessaging(servers.natsUrl());
            case "redis":
                return new RedisMessaging(servers.redisUrl());
            default:
                throw new IllegalArgumentException("unknown target " + target + "; use one of " + TARGETS);
        }
    }

    /** Runs the three phases against {@code target}; removes what it created. */
    Result run(Messaging target) throws Exception {
        String label = target.name();
        String source = "relay_bench_" + label + "_src";
        String streamTable = "relay_bench_" + label;
        String run = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);
        String destination = "pgtbench_" + label + "_" + run;
        String direct = destination + "_direct";
        String relayGroup = "bench-" + label + "-" + run;
        int latencyRows = (int) Pacer.plannedRows(options.duration(), options.rate(), 1) + options.rowsPerTransaction();
        int maxId = options.changes() + latencyRows;
        try (Connection c = engine.dataSource().getConnection()) {
            Sql.execute(c, "DROP TABLE IF EXISTS " + source + " CASCADE",
                    "CREATE TABLE " + source + " (id integer PRIMARY KEY, v integer NOT NULL, note text NOT NULL)");
        }
        engine.streamTables().create(StreamTableSpec.parse(streamTable, "SELECT id, v, note FROM " + source,
                options.schedule(), "DIFFERENTIAL"));
        try {
            engine.outboxes().enable(streamTable);
            target.prepare(destination);
            target.prepare(direct);
            Arrivals relayArrivals = new Arrivals(maxId);
            try (AutoCloseable reader = target.read(destination, relayArrivals::arrived)) {
                progress.accept(label + ": writing " + options.changes() + " changes into the outbox");
                insert(source, 1, options.changes());
                awaitOutbox(streamTable, options.changes());
                progress.accept(label + ": the relay drains them");
                long started = System.nanoTime();
                try (Relay relay = Relay.start(ConfigLoader.parse(config(target, destination, streamTable, relayGroup),
                        "bench-relay.toml", environment()), new PrintStream(OutputStream.nullOutputStream()))) {
                    Duration relayStart = awaitRunning(relay, started);
                    Throughput drained = awaitArrivals(relayArrivals, options.changes(), started, 1, options.changes());
                    progress.accept(label + ": relay " + Math.round(drained.perSecond()) + " changes/s; the direct client");
                    Throughput directly = direct(target, streamTable, direct, maxId);
                    progress.accept(label + ": direct " + Math.round(directly.perSecond()) + " changes/s; "
                            + options.rate() + " rows/s for " + options.duration().toSeconds() + " s");
                    Latency latency = latency(source, relayArrivals);
                    return new Result(label, target.server(), drained, relayStart, directly, latency);
                }
            }
        } finally {
            engine.consumerGroups().drop("relay:" + relayGroup + "/bench-" + label, true);
            engine.outboxes().disable(streamTable, true);
            engine.streamTables().drop(streamTable);
            try (Connection c = engine.dataSource().getConnection()) {
                Sql.execute(c, "DROP TABLE IF EXISTS " + source);
            }
            target.remove(destination);
            target.remove(direct);
        }
    }

    private String config(Messaging target, String destination, String streamTable, String relayGroup) {
        StringBuilder toml = new StringBuilder();
        toml.append("postgres_url = \"").append(relayUrl()).append("\"\n");
        if (database.password() != null) {
            toml.append("postgres_password = \"${ENV:PGTRICKLE_BENCH_PASSWORD}\"\n");
        }
        toml.append("metrics_addr = \"127.0.0.1:0\"\n");
        toml.append("relay_group_id = \"").append(relayGroup).append("\"\n\n");
        toml.append("[[pipeline]]\nname = \"bench-").append(target.name()).append("\"\ndirection = \"forward\"\n");
        toml.append("batch_size = ").append(options.batchSize()).append("\n\n");
        toml.append("[pipeline.source]\nstream_table = \"").append(streamTable).append("\"\n\n");
        toml.append("[pipeline.sink]\n").append(target.sinkToml(destination));
        return toml.toString();
    }

    private String relayUrl() {
        String url = database.jdbcUrl();
        if (database.user() == null || url.contains("user=")) {
            return url;
        }
        return url + (url.contains("?") ? "&" : "?") + "user=" + database.user();
    }

    private Map<String, String> environment() {
        return database.password() == null ? Map.of() : Map.of("PGTRICKLE_BENCH_PASSWORD", database.password());
    }

    private Duration awaitRunning(Relay relay, long started) throws InterruptedException {
        long deadline = started + Duration.ofSeconds(60).toNanos();
        while (relay.pipelines().stream().noneMatch(p -> p.state() == PipelineState.RUNNING)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the relay's pipeline did not start within 60 s: " + relay.pipelines());
            }
            Thread.sleep(1);
        }
        return Duration.ofNanos(System.nanoTime() - started);
    }

    private Throughput awaitArrivals(Arrivals arrivals, long expected, long started, int fromId, int toId)
            throws InterruptedException {
        if (!arrivals.await(expected, options.drainTimeout().toNanos())) {
            throw new IllegalStateException(arrivals.messages() + " of " + expected + " changes arrived within "
                    + options.drainTimeout().toSeconds() + " s; raise --drain-timeout or look at the target");
        }
        Duration took = Duration.ofNanos(arrivals.lastNanos() - started);
        return new Throughput(expected, took, arrivals.missing(fromId, toId), arrivals.repeated(fromId, toId));
    }

    /** The outbox's changes encoded as the relay encodes them, written by the plain client. */
    private Throughput direct(Messaging target, String streamTable, String direct, int maxId) throws Exception {
        List<OutboundMessage> messages = new ArrayList<>(options.changes());
        NativeFormat format = new NativeFormat();
        String to = target.messageDestination(direct);
        long after = 0;
        for (List<OutboxDelta> entries = engine.outboxes().read(streamTable, after, 100); !entries.isEmpty();
             entries = engine.outboxes().read(streamTable, after, 100)) {
            for (OutboxDelta entry : entries) {
                for (OutboxChange change : entry.changes()) {
                    ChangeEvent event = ChangeEvent.of(entry, change);
                    messages.add(new OutboundMessage(to, format.encode(event), event.position(), event.dedupKey()));
                }
                after = entry.offset();
            }
        }
        Arrivals arrivals = new Arrivals(maxId);
        try (AutoCloseable reader = target.read(direct, arrivals::arrived)) {
            long started = System.nanoTime();
            target.publishDirect(messages, options.batchSize());
            return awaitArrivals(arrivals, messages.size(), started, 1, options.changes());
        }
    }

    /** Writes at the configured rate; per row, commit to arrival. */
    private Latency latency(String source, Arrivals arrivals) throws Exception {
        int firstId = options.changes() + 1;
        int perTransaction = options.rowsPerTransaction();
        long[] committedAt = new long[options.changes() + 1 + (int) Pacer.plannedRows(options.duration(),
                options.rate(), 1) + perTransaction];
        long start = System.nanoTime();
        Pacer pacer = new Pacer(start, options.duration(), options.rate(), 1, 0);
        int next = firstId;
        try (Connection c = engine.dataSource().getConnection();
             PreparedStatement insert = c.prepareStatement(insertSql(source))) {
            for (long row = 0; pacer.sends(row, System.nanoTime()); row += perTransaction) {
                pacer.awaitDue(row);
                insert.setInt(1, next);
                insert.setInt(2, next + perTransaction - 1);
                insert.executeUpdate();
                long at = System.nanoTime();
                for (int id = next; id < next + perTransaction; id++) {
                    committedAt[id] = at;
                }
                next += perTransaction;
            }
        }
        Duration writing = Duration.ofNanos(System.nanoTime() - start);
        int lastId = next - 1;
        long rows = lastId - firstId + 1;
        arrivals.await(options.changes() + rows, options.drainTimeout().toNanos());
        List<Long> latencies = new ArrayList<>((int) rows);
        for (int id = firstId; id <= lastId; id++) {
            if (arrivals.arrivedAt(id) != 0) {
                latencies.add(arrivals.arrivedAt(id) - committedAt[id]);
            }
        }
        return new Latency(rows, writing, Quantiles.of(latencies), arrivals.missing(firstId, lastId),
                arrivals.repeated(firstId, lastId));
    }

    private void insert(String source, int from, int to) throws SQLException {
        try (Connection c = engine.dataSource().getConnection();
             PreparedStatement insert = c.prepareStatement(insertSql(source))) {
            for (int lo = from; lo <= to; lo += LOAD_CHUNK) {
                insert.setInt(1, lo);
                insert.setInt(2, Math.min(to, lo + LOAD_CHUNK - 1));
                insert.executeUpdate();
            }
        }
    }

    private static String insertSql(String source) {
        // A payload of about 200 bytes per change in the native format.
        return "INSERT INTO " + source + " (id, v, note) SELECT i, i % 1000, md5(i::text) FROM generate_series(?, ?) i";
    }

    private void awaitOutbox(String streamTable, long changes) throws Exception {
        long deadline = System.nanoTime() + options.drainTimeout().toNanos();
        try (Connection c = engine.dataSource().getConnection()) {
            while (true) {
                long written = Sql.value(c, Long.class, "SELECT coalesce(sum(row_count), 0)::bigint FROM"
                        + " pgtrickle.pgt_outbox WHERE stream_table = ?", "public." + streamTable);
                if (written >= changes) {
                    return;
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("the outbox of " + streamTable + " holds " + written + " of "
                            + changes + " changes after " + options.drainTimeout().toSeconds() + " s");
                }
                Thread.sleep(20);
            }
        }
    }

    public static final List<String> HEADER = List.of("target", "relay changes/s", "relay start", "direct changes/s",
            "relay / direct", "rows/s written", "p50", "p99", "max", "missing", "repeated");

    /** One table row per target: throughput side by side, then the latency at the written rate. */
    public static List<List<String>> rows(List<Result> results) {
        return results.stream().map(r -> List.of(r.target(), Figures.rate(r.relay().perSecond()),
                Figures.millis(r.relayStart().toNanos() / 1e6), Figures.rate(r.direct().perSecond()),
                String.format(Locale.ROOT, "%.2f", r.relay().perSecond() / r.direct().perSecond()),
                Figures.rate(r.latency().writtenPerSecond()), Figures.millis(r.latency().quantiles().medianMillis()),
                Figures.millis(r.latency().quantiles().p99Millis()), Figures.millis(r.latency().quantiles().maxMillis()),
                String.valueOf(r.relay().missing() + r.direct().missing() + r.latency().missing()),
                String.valueOf(r.relay().repeated() + r.direct().repeated() + r.latency().repeated()))).toList();
    }

    /** Whether every phase of every target saw each change exactly once. */
    public static boolean exact(List<Result> results) {
        return results.stream().allMatch(r -> r.relay().missing() + r.relay().repeated() + r.direct().missing()
                + r.direct().repeated() + r.latency().missing() + r.latency().repeated() == 0);
    }

    /** Writes {@code relay.csv}. */
    public static Path write(List<Result> results, Path directory) throws IOException {
        Path csv = directory.resolve("relay.csv");
        Csv.write(csv, List.of("target", "server", "changes", "relay_changes_per_s", "relay_start_ms",
                "direct_changes_per_s", "rows_per_s_written", "latency_p50_ms", "latency_p99_ms", "latency_max_ms",
                "missing", "repeated"), results.stream().map(r -> List.of(r.target(), r.server(),
                String.valueOf(r.relay().changes()), Figures.csv(r.relay().perSecond()),
                Figures.csv(r.relayStart().toNanos() / 1e6), Figures.csv(r.direct().perSecond()),
                Figures.csv(r.latency().writtenPerSecond()), Figures.csv(r.latency().quantiles().medianMillis()),
                Figures.csv(r.latency().quantiles().p99Millis()), Figures.csv(r.latency().quantiles().maxMillis()),
                String.valueOf(r.relay().missing() + r.direct().missing() + r.latency().missing()),
                String.valueOf(r.relay().repeated() + r.direct().repeated() + r.latency().repeated()))).toList());
        return csv;
    }
}
