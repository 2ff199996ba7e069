package io.pgtrickle.core;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.SQLExceptionOverride;
import io.pgtrickle.core.capture.Capture;
import io.pgtrickle.core.catalog.Catalog;
import io.pgtrickle.core.error.SqlErrors;
import io.pgtrickle.core.catalog.CatalogMigrator;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.inbox.Inboxes;
import io.pgtrickle.core.lifecycle.SourceChangeHandler;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.outbox.ConsumerGroups;
import io.pgtrickle.core.outbox.OutboxRetention;
import io.pgtrickle.core.publication.StreamTablePublications;
import io.pgtrickle.core.refresh.Refresher;
import io.pgtrickle.core.requests.RequestListener;
import io.pgtrickle.core.requests.RequestProcessor;
import io.pgtrickle.core.schedule.Scheduler;
import io.pgtrickle.core.sql.ServerCapabilities;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.time.Duration;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine for one database. {@link #open} installs or migrates the catalog and gives the
 * synchronous Java API ({@link #streamTables()}); {@link #start()} adds the background work: the
 * scheduler and the listener that carries out requests made through the SQL functions.
 */
public final class PgTrickleEngine implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(PgTrickleEngine.class);

    private final EngineConfig config;
    private final HikariDataSource dataSource;
    private final Catalog catalog = new Catalog();
    private final Capture capture;
    private final Refresher refresher;
    private final StreamTables streamTables;
    private final Inboxes inboxes;
    private final StreamTablePublications publications;
    private final ServerCapabilities server;
    private final ConsumerGroups consumerGroups;
    private final OutboxRetention outboxRetention;
    private Scheduler scheduler;
    private RequestListener listener;

    private PgTrickleEngine(EngineConfig config, HikariDataSource dataSource, Capture capture, ServerCapabilities server) {
        this.config = config;
        this.dataSource = dataSource;
        this.capture = capture;
        this.server = server;
        this.refresher = new Refresher(dataSource, catalog, config.retryPolicy(), capture, server);
        this.streamTables = new StreamTables(dataSource, catalog, refresher, capture.sources(),
                config.trackingTimeout());
        this.consumerGroups = new ConsumerGroups(dataSource);
        this.outboxRetention = new OutboxRetention(dataSource, OutboxRetention.DEFAULT_INTERVAL);
        this.inboxes = new Inboxes(dataSource, streamTables);
        this.publications = new StreamTablePublications(dataSource);
    }

    /**
     * Connects, checks the server's version and brings the catalog up to date.
     *
     * @throws PgTrickleException {@code CONNECTION_FAILED} when the database cannot be reached,
     *     {@code UNSUPPORTED_SERVER} when it runs a PostgreSQL older than 15
     */
    public static PgTrickleEngine open(EngineConfig config) {
        ServerCapabilities server = probe(config);
        HikariDataSource ds = pool(config);
        try {
            CatalogMigrator.migrate(ds);
        } catch (RuntimeException e) {
            ds.close();
            throw new PgTrickleException(ErrorCode.INTERNAL, "cannot install the pgtrickle catalog: " + e.getMessage(), e);
        }
        try {
            return new PgTrickleEngine(config, ds, Capture.open(config, ds), server);
        } catch (SQLException e) {
            ds.close();
            throw SqlErrors.translate("cannot prepare change capture", e);
        } catch (RuntimeException e) {
            ds.close();
            throw e;
        }
    }

    /**
     * Fails fast with a clear message before the pool starts retrying in the background, and
     * before the catalog is installed into a server the engine cannot work with.
     */
    private static ServerCapabilities probe(EngineConfig config) {
        ServerCapabilities server;
        try (Connection probe = connect(config)) {
            server = ServerCapabilities.detect(probe);
        } catch (SQLException e) {
            throw new PgTrickleException(ErrorCode.CONNECTION_FAILED, "cannot connect to " + config.redactedUrl() + ": "
                    + e.getMessage(), e);
        }
        server.requireSupported(config.redactedUrl());
        log.debug("{} runs PostgreSQL {}", config.redactedUrl(), server.version());
        return server;
    }

    private static HikariDataSource pool(EngineConfig config) {
        HikariConfig hc = new HikariConfig();
        hc.setJdbcUrl(config.jdbcUrl());
        if (config.user() != null) {
            hc.setUsername(config.user());
        }
        if (config.password() != null) {
            hc.setPassword(config.password());
        }
        hc.setMaximumPoolSize(config.poolSize());
        hc.setMinimumIdle(1);
        hc.setPoolName("pgtrickle");
        hc.addDataSourceProperty("ApplicationName", "pgtrickle");
        // Hikari evicts connections on SQLSTATE 0A000, which PostgreSQL raises for unsupported SQL
        // in a user's query; the connection is fine, and evicting it would lose the error.
        hc.setExceptionOverride(new KeepOnUnsupportedFeature());
        return new HikariDataSource(hc);
    }

    /** Keeps connections that only reported SQLSTATE 0A000 (feature not supported). */
    private static final class KeepOnUnsupportedFeature implements SQLExceptionOverride {
        @java.lang.Override
        public SQLExceptionOverride.Override adjudicate(SQLException e) {
            return "0A000".equals(e.getSQLState())
                    ? SQLExceptionOverride.Override.DO_NOT_EVICT : SQLExceptionOverride.Override.CONTINUE_EVICT;
        }
    }

    private static Connection connect(EngineConfig config) throws SQLException {
        Properties p = new Properties();
        if (config.user() != null) {
            p.setProperty("user", config.user());
        }
        if (config.password() != null) {
            p.setProperty("password", config.password());
        }
        p.setProperty("ApplicationName", "pgtrickle-listener");
        p.setProperty("connectTimeout", "10");
        return DriverManager.getConnection(config.jdbcUrl(), p);
    }

    /** The synchronous lifecycle API. */
    public StreamTables streamTables() {
        return streamTables;
    }

    /** Inboxes: tables that receive events idempotently, with pending, dead-letter and stats stream tables. */
    public Inboxes inboxes() {
        return inboxes;
    }

    /** Stream tables as logical-replication publications. */
    public StreamTablePublications publications() {
        return publications;
    }

    public DataSource dataSource() {
        return dataSource;
    }

    /** The outboxes of stream tables (works whether or not the engine is started). */
    public io.pgtrickle.core.outbox.Outboxes outboxes() {
        return new io.pgtrickle.core.outbox.Outboxes(dataSource);
    }

    /** What the database server can do, detected when the engine opened. */
    public ServerCapabilities serverCapabilities() {
        return server;
    }

    /** Consumer groups over the outboxes: poll, commit, seek, lag. */
    public ConsumerGroups consumerGroups() {
        return consumerGroups;
    }

    /** The retention pass over the outboxes ({@link #start()} schedules it). */
    public OutboxRetention outboxRetention() {
        return outboxRetention;
    }

    /** Change capture: the tracked sources and, in WAL mode, the stream. */
    public Capture capture() {
        return capture;
    }

    /**
     * Starts scheduling and serving SQL requests.
     *
     * @throws PgTrickleException {@code ENGINE_ALREADY_RUNNING} when another engine owns the database
     */
    public synchronized PgTrickleEngine start() {
        if (listener != null) {
            return this;
        }
        RequestProcessor processor = new RequestProcessor(dataSource, streamTables, inboxes);
        listener = new RequestListener(() -> {
            try {
                return connect(config);
            } catch (SQLException e) {
                throw new PgTrickleException(ErrorCode.CONNECTION_FAILED, "cannot connect: " + e.getMessage(), e);
            }
        }, processor, config.requestPoll());
        try {
            processor.recoverInterrupted();
        } catch (SQLException e) {
            log.warn("could not re-queue interrupted requests: {}", e.getMessage());
        }
        try {
            // This engine's delta SQL may differ from the version that generated the triggers.
            streamTables.syncAllImmediate();
        } catch (RuntimeException e) {
            log.warn("could not regenerate the IMMEDIATE triggers: {}", e.getMessage());
        }
        scheduler = new Scheduler(dataSource, catalog, refresher, config.schedulerTick(), config.maxConcurrentRefreshes());
        scheduler.setTiered(config.tieredScheduling());
        scheduler.addHousekeeping(
                new SourceChangeHandler(dataSource, catalog, streamTables, capture.sources())::handlePending);
        // WAL capture starts once the first source is tracked (that creates the slot).
        scheduler.addHousekeeping(capture::start);
        // Consumed buffer rows are dead rows; without this, only autovacuum (if on) reclaims them.
        scheduler.addHousekeeping(capture.bufferMaintenance()::run);
        // Outbox entries every consumer group has committed, once older than the retention.
        scheduler.addHousekeeping(outboxRetention::run);
        // Processed inbox events past their retention; at most once a minute.
        scheduler.addHousekeeping(inboxes.retention()::run);
        capture.start();
        listener.start();
        scheduler.start();
        log.info("pg_trickle engine running against {}", config.redactedUrl());
        return this;
    }

    /**
     * Starts no new scheduled refresh in this engine and waits up to {@code timeout} for those in
     * flight; true when quiet. For an orderly shutdown: unlike {@code pgtrickle.drain()} it is not
     * recorded in the catalog, so it ends with this engine (or {@link #resume}).
     */
    public boolean drain(Duration timeout) throws InterruptedException {
        Scheduler s;
        synchronized (this) {
            s = scheduler;
        }
        return s == null || s.drain(timeout);
    }

    /** Undoes {@link #drain}. */
    public synchronized void resume() {
        if (scheduler != null) {
            scheduler.resume();
        }
    }

    @Override
    public synchronized void close() {
        if (listener != null) {
            listener.close();
        }
        if (scheduler != null) {
            scheduler.close();
        }
        capture.close();
        dataSource.close();
    }
}
