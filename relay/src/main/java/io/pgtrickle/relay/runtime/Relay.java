package io.pgtrickle.relay.runtime;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.metrics.EngineMetrics;
import io.pgtrickle.core.outbox.ConsumerGroups;
import io.pgtrickle.core.outbox.Outboxes;
import io.pgtrickle.embedded.EmbeddedPostgresServer;
import io.pgtrickle.format.MessageFormat;
import io.pgtrickle.relay.config.Direction;
import io.pgtrickle.relay.config.PipelineConfig;
import io.pgtrickle.relay.config.RelayConfig;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.config.SourceConfig;
import io.pgtrickle.relay.config.StreamTableConfig;
import io.pgtrickle.relay.http.StatusServer;
import io.pgtrickle.relay.metrics.PipelineMetrics;
import io.pgtrickle.relay.pipeline.ForwardPipeline;
import io.pgtrickle.relay.pipeline.PipelineOwnership;
import io.pgtrickle.relay.pipeline.PipelineRunner;
import io.pgtrickle.relay.pipeline.PipelineStatus;
import io.pgtrickle.relay.pipeline.PipelineWork;
import io.pgtrickle.relay.pipeline.ReversePipeline;
import java.io.PrintStream;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.function.UnaryOperator;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running relay: the database (an embedded PostgreSQL 18 and the engine when the config asks to
 * host them), the declared stream tables, one {@link PipelineRunner} thread per enabled pipeline,
 * and the status server. {@link #close()} drains: each pipeline finishes its batch in flight,
 * commits its position and releases its lock.
 */
public final class Relay implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Relay.class);
    private static final Duration DRAIN_TIMEOUT = Duration.ofSeconds(30);

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final List<PipelineRunner> runners = new ArrayList<>();
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private StatusServer status;
    private String jdbcUrl;
    private Properties credentials;

    private Relay() {
    }

    /** Starts everything the config declares; on failure, stops what was started and throws. */
    public static Relay start(RelayConfig config, PrintStream stdout) throws Exception {
        return start(config, stdout, UnaryOperator.identity());
    }

    /** As {@link #start(RelayConfig, PrintStream)}, with the hosted engine's settings adjusted (tests: a slot per database). */
    public static Relay start(RelayConfig config, PrintStream stdout, UnaryOperator<EngineConfig> engineSettings)
            throws Exception {
        Relay relay = new Relay();
        try {
            relay.startAll(config, stdout, engineSettings);
            return relay;
        } catch (Exception | Error e) {
            relay.close();
            throw e;
        }
    }

    private void startAll(RelayConfig config, PrintStream stdout, UnaryOperator<EngineConfig> engineSettings)
            throws Exception {
        new JvmMemoryMetrics().bindTo(registry);
        credentials = new Properties();
        if (config.engine().embedded()) {
            Path dataDir = config.engine().dataDir() == null ? Path.of("pgtrickle-data") : config.engine().dataDir();
            EmbeddedPostgresServer server = EmbeddedPostgresServer.start(
                    EmbeddedPostgresServer.Options.persistent(config.engine().port(), dataDir.toAbsolutePath()));
            resources.add(0, server);
            jdbcUrl = server.jdbcUrl("postgres");
            credentials.setProperty("user", EmbeddedPostgresServer.SUPERUSER);
            log.info("embedded PostgreSQL {} on port {} (data directory {})", server.majorVersion(), server.port(),
                    dataDir);
        } else {
            jdbcUrl = JdbcUrls.jdbc(config.postgresUrl());
            if (config.postgresPassword() != null) {
                credentials.setProperty("password", config.postgresPassword().reveal());
            }
        }
        DataSource dataSource;
        if (config.engine().hosted()) {
            EngineConfig engineConfig = engineSettings.apply(EngineConfig.of(jdbcUrl)
                    .withCredentials(credentials.getProperty("user"), credentials.getProperty("password"))
                    .withSlotName(config.engine().slotName())
                    .withMaxConcurrentRefreshes(config.engine().maxConcurrentRefreshes())
                    .withTieredScheduling(config.engine().tieredScheduling()));
            PgTrickleEngine engine = PgTrickleEngine.open(engineConfig).start();
            resources.add(0, engine);
            dataSource = engine.dataSource();
            log.info("engine started in the relay process");
        } else {
            HikariConfig pool = new HikariConfig();
            pool.setJdbcUrl(jdbcUrl);
            pool.setDataSourceProperties(credentials);
            pool.setMaximumPoolSize(Math.max(4, config.pipelines().size() + 2));
            pool.setPoolName("pgtrickle-relay");
            HikariDataSource ds = new HikariDataSource(pool);
            resources.add(0, ds);
            dataSource = ds;
        }
        List<StreamTableConfig> pending = StreamTableDeclarations.apply(dataSource, config.streamTables());
        if (!pending.isEmpty()) {
            retryDeclarations(dataSource, pending);
        }
        Outboxes outboxes = new Outboxes(dataSource);
        ConsumerGroups groups = new ConsumerGroups(dataSource);
        List<PipelineStatus> statuses = new ArrayList<>();
        for (PipelineConfig p : config.pipelines()) {
            if (!p.enabled()) {
                log.info("pipeline {} is disabled", p.name());
                continue;
            }
            PipelineMetrics metrics = new PipelineMetrics(registry, p.name());
            PipelineStatus pipelineStatus = new PipelineStatus(p.name(), Clock.systemUTC());
            PipelineRunner runner = new PipelineRunner(p.name(),
                    new PipelineOwnership(this::sessionConnection, config.relayGroupId(), p.name()),
                    work(config, p, dataSource, outboxes, groups, metrics, stdout), p.retryInitialBackoff(),
                    p.retryMaxBackoff(), pipelineStatus, metrics);
            statuses.add(pipelineStatus);
            runners.add(runner);
        }
        resources.add(0, new EngineMetrics(registry, dataSource));
        status = new StatusServer(config.metricsAddr(), registry, statuses);
        for (PipelineRunner r : runners) {
            Thread t = new Thread(r, "pipeline-" + r.status().pipeline());
            t.start();
        }
        log.info("relay {} started: {} pipelines, status on http://{}/ready", config.relayGroupId(), runners.size(),
                config.metricsAddr());
    }

    private static PipelineWork work(RelayConfig config, PipelineConfig p, DataSource dataSource, Outboxes outboxes,
                                     ConsumerGroups groups, PipelineMetrics metrics, PrintStream stdout) {
        String owner = config.relayGroupId() + "/" + p.name();
        if (p.direction() == Direction.FORWARD) {
            String streamTable = ((SourceConfig.StreamTable) p.source()).streamTable();
            return new ForwardPipeline(p.name(), streamTable, "relay:" + owner, outboxes, groups,
                    () -> Targets.create(p.sink(), streamTable, stdout), MessageFormat.of(p.format()),
                    Targets.destination(p.sink(), streamTable), p.batchSize(), metrics);
        }
        return new ReversePipeline(p.name(), owner, (SinkConfig.Inbox) p.sink(), dataSource,
                () -> Sources.create(p.source()), p.batchSize(), metrics);
    }

    /** Tries the declarations that failed at start again until each applies (or the relay stops). */
    private void retryDeclarations(DataSource dataSource, List<StreamTableConfig> pending) {
        java.util.concurrent.ScheduledExecutorService retry = java.util.concurrent.Executors
                .newSingleThreadScheduledExecutor(r -> {
                    Thread t = new Thread(r, "pgtrickle-relay-declarations");
                    t.setDaemon(true);
                    return t;
                });
        List<StreamTableConfig> left = new java.util.concurrent.CopyOnWriteArrayList<>(pending);
        retry.scheduleWithFixedDelay(() -> {
            List<StreamTableConfig> failed = StreamTableDeclarations.apply(dataSource, left);
            left.retainAll(failed);
            if (left.isEmpty()) {
                retry.shutdown();
            }
        }, StreamTableDeclarations.RETRY.toMillis(), StreamTableDeclarations.RETRY.toMillis(),
                java.util.concurrent.TimeUnit.MILLISECONDS);
        resources.add(0, retry::shutdownNow);
    }

    private Connection sessionConnection() {
        try {
            return DriverManager.getConnection(jdbcUrl, credentials);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot connect to " + JdbcUrls.redacted(jdbcUrl) + ": " + e.getMessage(), e);
        }
    }

    /** The port of {@code /metrics}, {@code /health} and {@code /ready}. */
    public int statusPort() {
        return status.port();
    }

    public List<PipelineStatus.Snapshot> pipelines() {
        return runners.stream().map(r -> r.status().snapshot()).toList();
    }

    @Override
    public void close() {
        // A hosted engine first: no new refresh starts and those in flight finish (their outbox
        // entries written), so the pipelines' last batches stop at a refresh boundary.
        for (AutoCloseable r : resources) {
            if (r instanceof PgTrickleEngine engine) {
                try {
                    if (!engine.drain(DRAIN_TIMEOUT)) {
                        log.warn("refreshes still in flight after {}; stopping anyway", DRAIN_TIMEOUT);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        }
        runners.forEach(PipelineRunner::stop);
        for (PipelineRunner r : runners) {
            try {
                r.awaitStop(DRAIN_TIMEOUT);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (status != null) {
            status.close();
        }
        for (AutoCloseable r : resources) {
            try {
                r.close();
            } catch (Exception e) {
                log.warn("closing {}: {}", r.getClass().getSimpleName(), e.getMessage());
            }
        }
        resources.clear();
    }
}
