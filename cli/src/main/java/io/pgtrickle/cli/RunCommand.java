package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.metrics.ScrapeServer;
import io.pgtrickle.relay.logging.JsonLogs;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code pgtrickle run}: the engine as a daemon. It refreshes stream tables on schedule and
 * carries out what the SQL functions ({@code pgtrickle.create_stream_table} ...) request, until
 * SIGINT or SIGTERM; then it stops the engine, then the embedded server.
 */
@Command(name = "run", mixinStandardHelpOptions = true,
        description = {
            "Run the engine until stopped (Ctrl-C or SIGTERM): refresh stream tables on schedule and carry out"
                    + " the requests of the SQL functions (pgtrickle.create_stream_table, ...).",
            "Without --jdbc-url it starts the embedded PostgreSQL 18 (data in --data-dir) and prints how to"
                    + " connect; other pgtrickle commands then use that server."},
        footer = {"", "Examples:",
            "  pgtrickle run",
            "  PGTRICKLE_PASSWORD=... pgtrickle run --jdbc-url jdbc:postgresql://db:5432/app --user pgtrickle"})
final class RunCommand implements Callable<Integer> {
    @Mixin
    ConnectionOptions connection;

    @Option(names = "--embedded", description = "Use the embedded PostgreSQL 18 (the default without --jdbc-url).")
    boolean embedded;

    @Option(names = "--max-concurrent-refreshes", paramLabel = "N", defaultValue = "1",
            description = "Refresh up to N independent stream tables at once, each on its own connection; dependants"
                    + " still wait for their sources (default: ${DEFAULT-VALUE}, one by one).")
    int maxConcurrentRefreshes;

    @Option(names = "--tiered-scheduling", description = "Check due stream tables whose sources have not changed for"
            + " 8 checks only every 4th time they are due (every 8th after 64): a cheaper tick with many stream tables,"
            + " at the price of staleness beyond the schedule until the next check. Off by default.")
    boolean tieredScheduling;

    @Option(names = "--metrics-addr", paramLabel = "HOST:PORT",
            description = "Serve Prometheus metrics of the engine (per stream table, change buffer and replication"
                    + " slot) and the JVM on http://HOST:PORT/metrics, e.g. 127.0.0.1:9464 (port 0: any free"
                    + " port). Off by default.")
    String metricsAddr;

    @Option(names = "--log-format", paramLabel = "FORMAT", defaultValue = "text",
            description = "Log lines on stderr as text (default) or json (one JSON object per line).")
    String logFormat;

    @Spec
    CommandSpec spec;

    private final CountDownLatch stopRequested = new CountDownLatch(1);
    private final CountDownLatch running = new CountDownLatch(1);
    private volatile EngineEndpoint endpoint;

    @Override
    public Integer call() throws InterruptedException {
        if (embedded && connection.external()) {
            throw new ParameterException(spec.commandLine(), "--embedded and --jdbc-url exclude each other");
        }
        connection.validate();
        if (maxConcurrentRefreshes < 1 || maxConcurrentRefreshes > 64) {
            throw new ParameterException(spec.commandLine(), "--max-concurrent-refreshes must be from 1 to 64, got "
                    + maxConcurrentRefreshes);
        }
        if (!"text".equals(logFormat) && !"json".equals(logFormat)) {
            throw new ParameterException(spec.commandLine(), "--log-format must be text or json, not " + logFormat);
        }
        if (metricsAddr != null) {
            try {
                ScrapeServer.parse(metricsAddr, "--metrics-addr");
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), e.getMessage());
            }
        }
        if ("json".equals(logFormat)) {
            JsonLogs.enable();
        }
        PrintWriter out = spec.commandLine().getOut();
        Signals.Registration signals = Signals.onTermination(this::stop);
        try {
            serve(out);
        } finally {
            signals.close();
        }
        return 0;
    }

    private void serve(PrintWriter out) throws InterruptedException {
        LocalServer server = null;
        RunFile runFile = null;
        PgTrickleEngine engine = null;
        try {
            String url = connection.jdbcUrl;
            if (!connection.external()) {
                server = LocalServer.startForRun(connection.dataDir, connection.port, out);
                url = server.jdbcUrl();
                // Written as soon as the server is up, so other commands use it (rather than fail
                // on the taken port) while the engine starts.
                runFile = RunFile.in(connection.dataDir.toAbsolutePath().normalize());
                runFile.write(url, server.port());
                out.println("PostgreSQL 18 ready: " + url);
                out.println("  psql \"postgresql://postgres@localhost:" + server.port() + "/postgres\"");
                out.flush();
            }
            engine = PgTrickleEngine.open(connection.config(url).withMaxConcurrentRefreshes(maxConcurrentRefreshes)
                    .withTieredScheduling(tieredScheduling));
            engine.start();
            // From here on the engine reports what it does (creates, drops, failed refreshes).
            Logging.engineInfo();
            if (metricsAddr != null) {
                endpoint = EngineEndpoint.start(metricsAddr, engine.dataSource());
                out.println("metrics on http://" + metricsAddr.substring(0, metricsAddr.lastIndexOf(':')) + ":"
                        + endpoint.port() + "/metrics");
            }
            out.println("pg_trickle engine running against " + ConnectionOptions.redact(url)
                    + " (Ctrl-C or SIGTERM stops it)");
            out.flush();
            running.countDown();
            stopRequested.await();
            out.println("stopping ...");
            out.flush();
        } finally {
            if (runFile != null) {
                runFile.delete();
            }
            if (endpoint != null) {
                endpoint.close();
                endpoint = null;
            }
            try {
                if (engine != null) {
                    engine.close();
                    out.println("engine stopped");
                }
            } finally {
                if (server != null) {
                    server.close();
                    out.println("PostgreSQL stopped");
                }
                out.flush();
            }
        }
    }

    /** Asks the daemon to shut down, as SIGINT and SIGTERM do. */
    void stop() {
        stopRequested.countDown();
    }

    /** The port of {@code --metrics-addr} once running (for tests with port 0), else -1. */
    int metricsPort() {
        EngineEndpoint e = endpoint;
        return e == null ? -1 : e.port();
    }

    /** Waits until the engine is running (for tests and embedding); false on timeout. */
    boolean awaitRunning(Duration timeout) throws InterruptedException {
        return running.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }
}
