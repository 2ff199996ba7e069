package io.pgtrickle.cli;

import io.pgtrickle.bench.DurationText;
import io.pgtrickle.bench.Machine;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.kafka.InProcessKafka;
import io.pgtrickle.bench.relay.RelayBench;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code pgtrickle bench relay}: the relay end to end against Kafka, NATS and Redis, beside their plain clients. */
@Command(name = "relay", mixinStandardHelpOptions = true, sortOptions = false,
        description = {
            "The relay end to end, per target: (1) --changes changes put in a stream table's outbox, then the relay"
                    + " started and an independent reader timed until the last arrives (changes/s, start included);"
                    + " (2) the same messages written by the target's plain client (the physical limit here);"
                    + " (3) --rate rows/s written for --duration while the engine refreshes and the relay"
                    + " publishes: latency from each row's commit to its arrival at the reader (p50, p99, max).",
            "Every phase counts changes that never arrived or arrived twice. Writes relay.csv into --output.",
            "Without --bootstrap-servers, Kafka is a single broker started in this JVM.",
            ""},
        footer = {"", "Examples:",
            "  pgtrickle bench relay",
            "  pgtrickle bench relay --target redis --changes 500000 --rate 10000 --duration 1m",
            "  pgtrickle bench relay --target kafka --bootstrap-servers localhost:9092"})
final class BenchRelayCommand implements Callable<Integer> {
    @Option(names = "--target", paramLabel = "T", defaultValue = "kafka,nats,redis", split = ",",
            description = "Targets, in order: kafka, nats, redis (comma-separated). Default: ${DEFAULT-VALUE}.")
    List<String> targets;

    @Option(names = "--changes", paramLabel = "N", defaultValue = "200000",
            description = "Changes the relay drains in phase 1 (and the direct client writes). Default: ${DEFAULT-VALUE}.")
    int changes;

    @Option(names = "--rate", paramLabel = "N", defaultValue = "5000",
            description = "Rows per second written in the latency phase. Default: ${DEFAULT-VALUE}.")
    int rate;

    @Option(names = "--duration", paramLabel = "D", defaultValue = "30s", converter = DurationConverter.class,
            description = "Length of the latency phase. Default: ${DEFAULT-VALUE}.")
    Duration duration;

    @Option(names = "--rows-per-transaction", paramLabel = "N", defaultValue = "50",
            description = "Rows per writer transaction in the latency phase. Default: ${DEFAULT-VALUE}.")
    int rowsPerTransaction;

    @Option(names = "--batch-size", paramLabel = "N", defaultValue = "500",
            description = "The pipeline's batch_size, and the direct client's messages in flight. Default:"
                    + " ${DEFAULT-VALUE}.")
    int batchSize;

    @Option(names = "--schedule", paramLabel = "S", defaultValue = "100ms",
            description = "Schedule of the stream table. Default: ${DEFAULT-VALUE}.")
    String schedule;

    @Option(names = "--tick", paramLabel = "D", defaultValue = "50ms", converter = DurationConverter.class,
            description = "How often the engine's scheduler looks for due stream tables. Default: ${DEFAULT-VALUE}.")
    Duration tick;

    @Option(names = "--drain-timeout", paramLabel = "D", defaultValue = "2m", converter = DurationConverter.class,
            description = "Longest wait for the changes of a phase to arrive. Default: ${DEFAULT-VALUE}.")
    Duration drainTimeout;

    @Option(names = "--bootstrap-servers", paramLabel = "HOSTS", description = "A Kafka cluster to use instead of"
            + " the in-process broker.")
    String bootstrapServers;

    @Option(names = "--nats-url", paramLabel = "URL", defaultValue = "nats://127.0.0.1:4222",
            description = "The NATS server (JetStream enabled). Default: ${DEFAULT-VALUE}.")
    String natsUrl;

    @Option(names = "--redis-url", paramLabel = "URL", defaultValue = "redis://127.0.0.1:6379",
            description = "The Redis server. Default: ${DEFAULT-VALUE}.")
    String redisUrl;

    @Option(names = "--output", paramLabel = "DIR", defaultValue = "bench-results",
            description = "Directory for the CSV file. Default: ${DEFAULT-VALUE}.")
    Path output;

    @Mixin
    BenchDatabaseOptions database;

    @Spec
    CommandSpec spec;

    RelayBench.Options validate() {
        database.validate();
        for (String t : targets) {
            if (!RelayBench.TARGETS.contains(t)) {
                throw usage("--target: unknown target '" + t + "'; use any of " + String.join(", ", RelayBench.TARGETS));
            }
        }
        if (changes < 1 || changes > 10_000_000) {
            throw usage("--changes must be between 1 and 10000000, got " + changes);
        }
        if (rate < 1 || rate > 1_000_000) {
            throw usage("--rate must be between 1 and 1000000 rows per second, got " + rate);
        }
        if (duration.isZero() || duration.compareTo(Duration.ofHours(1)) > 0) {
            throw usage("--duration must be longer than 0s and at most 1h, got " + DurationText.format(duration));
        }
        if (rowsPerTransaction < 1 || rowsPerTransaction > 100_000) {
            throw usage("--rows-per-transaction must be between 1 and 100000, got " + rowsPerTransaction);
        }
        if (batchSize < 1 || batchSize > 100_000) {
            throw usage("--batch-size must be between 1 and 100000 (the relay's batch_size range), got " + batchSize);
        }
        if (tick.compareTo(Duration.ofMillis(10)) < 0 || drainTimeout.isZero()) {
            throw usage("--tick must be at least 10ms and --drain-timeout longer than 0s");
        }
        return new RelayBench.Options(changes, rate, duration, rowsPerTransaction, batchSize, schedule, drainTimeout);
    }

    private ParameterException usage(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    String commandLine() {
        return "bin/pgtrickle bench relay --target " + String.join(",", targets) + " --changes " + changes + " --rate "
                + rate + " --duration " + DurationText.format(duration) + " --rows-per-transaction " + rowsPerTransaction
                + " --batch-size " + batchSize + " --schedule " + schedule + " --tick " + DurationText.format(tick)
                + (bootstrapServers == null ? "" : " --bootstrap-servers " + bootstrapServers) + " --output " + output
                + database.commandLineOptions();
    }

    @Override
    public Integer call() throws Exception {
        RelayBench.Options options = validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        out.println("pgtrickle bench relay: stream-table changes to Kafka, NATS and Redis, beside their plain clients");
        out.println();
        out.println("machine     " + Machine.describe());
        out.println("command     " + commandLine());
        out.flush();
        try (InProcessKafka kafka = bootstrapServers == null && targets.contains("kafka") ? InProcessKafka.start() : null) {
            String kafkaServers = kafka == null ? bootstrapServers : kafka.bootstrapServers();
            RelayBench.Servers servers = new RelayBench.Servers(kafkaServers, natsUrl, redisUrl);
            return database.withEngine(err, tick, (engine, config, where) -> bench(engine, config, where, servers,
                    kafka != null, options, out, err));
        } finally {
            out.flush();
            err.flush();
        }
    }

    private int bench(PgTrickleEngine engine, EngineConfig config, String where, RelayBench.Servers servers,
                      boolean kafkaInProcess, RelayBench.Options options, PrintWriter out, PrintWriter err)
            throws Exception {
        try (Connection c = engine.dataSource().getConnection()) {
            out.println("server      " + Sql.serverDescription(c) + ", " + where);
        }
        engine.start();
        out.println("capture     " + engine.capture().mode() + "; schedule " + schedule + ", scheduler tick "
                + DurationText.format(tick));
        for (String t : targets) {
            out.println(String.format(Locale.ROOT, "%-11s %s", t, server(t, servers, kafkaInProcess)));
        }
        out.flush();
        long started = System.nanoTime();
        RelayBench bench = new RelayBench(engine, config, options, line -> {
            err.println(String.format(Locale.ROOT, "%7.1fs  %s", (System.nanoTime() - started) / 1e9, line));
            err.flush();
        });
        List<RelayBench.Result> results = new ArrayList<>();
        for (String t : targets) {
            results.add(bench.run(t, servers));
        }
        out.println();
        out.println("relay vs direct client: " + changes + " changes drained; latency from commit to reader at "
                + rate + " rows/s for " + DurationText.format(duration) + " (times in ms)");
        Boolean[] right = new Boolean[RelayBench.HEADER.size()];
        Arrays.fill(right, true);
        right[0] = false;
        TextTable table = new TextTable(RelayBench.HEADER, Arrays.asList(right));
        RelayBench.rows(results).forEach(table::add);
        out.print(table.render(""));
        out.println();
        out.println("written: " + RelayBench.write(results, output));
        if (!RelayBench.exact(results)) {
            out.println("ERROR: some changes did not arrive exactly once (columns missing, repeated)");
            out.flush();
            return 1;
        }
        out.flush();
        return 0;
    }

    private static String server(String target, RelayBench.Servers servers, boolean kafkaInProcess) {
        switch (target) {
            case "kafka":
                return servers.kafkaBootstrapServers() + (kafkaInProcess ? " (a broker in this JVM)" : "");
            case "nats":
                return servers.natsUrl();
            default:
                return servers.redisUrl();
        }
    }
}
