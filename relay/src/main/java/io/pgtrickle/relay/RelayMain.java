package io.pgtrickle.relay;

import io.pgtrickle.relay.config.ConfigException;
import io.pgtrickle.relay.config.ConfigLoader;
import io.pgtrickle.relay.config.ConfigPrinter;
import io.pgtrickle.relay.config.RelayConfig;
import io.pgtrickle.relay.runtime.ConnectionCheck;
import io.pgtrickle.relay.runtime.Relay;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;
import picocli.CommandLine;
import sun.misc.Signal;
import sun.misc.SignalHandler;

/**
 * {@code pgtrickle-relay --config relay.toml}: runs the relay until SIGTERM or Ctrl-C, then drains
 * (finishes the batch in flight, commits positions, releases locks). {@code pgtrickle-relay check}
 * validates the file, prints the effective configuration with secrets masked, and tries every
 * connection.
 */
@Command(name = "pgtrickle-relay", mixinStandardHelpOptions = true, subcommands = RelayMain.Check.class,
        description = {"Publishes stream-table deltas from their outboxes to Kafka, NATS JetStream, Redis Streams or"
                + " stdout, and fills inboxes from them; see docs/relay.md.", ""},
        footer = {"", "Exit codes: 0 stopped cleanly (or check passed), 1 failed (or a check failed),"
                + " 2 the configuration is invalid.", "", "Examples:",
            "  pgtrickle-relay --config relay.toml",
            "  pgtrickle-relay check --config relay.toml"})
public final class RelayMain implements Callable<Integer> {
    static final int CONFIG_INVALID = 2;

    // Not required=true: picocli would then demand it before the check subcommand, too.
    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description = "The relay.toml to run (required).")
    Path config;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(new CommandLine(new RelayMain()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        if (config == null) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "Missing required option: '--config=FILE' (the relay.toml to run)");
        }
        RelayConfig relayConfig = load(config, err);
        if (relayConfig == null) {
            return CONFIG_INVALID;
        }
        RelayLogging.apply(relayConfig.logLevel(), relayConfig.logFormat());
        // SIGTERM and Ctrl-C handled here rather than in a shutdown hook: the drain runs before any
        // other hook (the embedded PostgreSQL has one), and the process then exits 0.
        CountDownLatch stop = new CountDownLatch(1);
        SignalHandler handler = signal -> stop.countDown();
        Signal.handle(new Signal("TERM"), handler);
        Signal.handle(new Signal("INT"), handler);
        try (Relay relay = Relay.start(relayConfig, System.out)) {
            stop.await();
            err.println("pgtrickle-relay: stopping (finishing the batches in flight)");
            err.flush();
        }
        return 0;
    }

    static RelayConfig load(Path file, PrintWriter err) {
        try {
            return ConfigLoader.load(file, System.getenv());
        } catch (ConfigException e) {
            err.println(e.getMessage());
            err.flush();
            return null;
        }
    }

    /** {@code pgtrickle-relay check}. */
    @Command(name = "check", mixinStandardHelpOptions = true,
            description = {"Validates the configuration, prints it with secrets masked, and tries PostgreSQL and every"
                    + " pipeline's target or source (each under --timeout), naming what failed.", ""})
    static final class Check implements Callable<Integer> {
        @Option(names = {"-c", "--config"}, paramLabel = "FILE", required = true, description = "The relay.toml to check.")
        Path config;

        @Option(names = "--timeout", paramLabel = "SECONDS", defaultValue = "10",
                description = "Longest wait for each connection. Default: ${DEFAULT-VALUE}.")
        int timeoutSeconds;

        @Spec
        CommandSpec spec;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            RelayConfig relayConfig = load(config, err);
            if (relayConfig == null) {
                return CONFIG_INVALID;
            }
            out.println("# effective configuration of " + config + " (secrets masked)");
            out.println(ConfigPrinter.print(relayConfig));
            out.println("# connections");
            boolean ok = ConnectionCheck.run(relayConfig, Duration.ofSeconds(timeoutSeconds), out);
            out.println(ok ? "all checks passed" : "some checks failed");
            out.flush();
            return ok ? 0 : 1;
        }
    }
}
