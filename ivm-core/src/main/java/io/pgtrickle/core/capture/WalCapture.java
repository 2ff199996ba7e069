package io.pgtrickle.core.capture;

import io.debezium.embedded.Connect;
import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.debezium.engine.format.ChangeEventFormat;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.sql.Jdbc;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.apache.kafka.connect.source.SourceRecord;
import org.postgresql.Driver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WAL stream of one database through Debezium Embedded (pgoutput, the engine's publication and
 * slot), feeding the {@link ChangeIngester}. It restarts Debezium with back-off when it stops (a
 * PostgreSQL restart, a lost connection); since offsets are kept only in memory, every start
 * resumes from the slot's confirmed position, which lives in PostgreSQL.
 *
 * <p>{@link #awaitPast} is the consistency barrier of the refresh protocol: it emits a
 * transactional logical message and waits until the ingester has seen it. Logical decoding
 * delivers transactions in commit order, so by then every transaction that committed before the
 * message — in particular before the refresh snapshot — is buffered.
 */
final class WalCapture implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(WalCapture.class);

    private final EngineConfig config;
    private final DataSource dataSource;
    private final CaptureObserver observer;
    /** Told the transaction id of each marker emitted: it writes no source row. */
    private final java.util.function.LongConsumer markerTransaction;
    private final java.util.concurrent.atomic.AtomicLong ingestTransactions;
    private final Map<String, CompletableFuture<Void>> markers = new ConcurrentHashMap<>();
    private final ExecutorService runner = Executors.newSingleThreadExecutor(r -> daemon(r, "pgtrickle-wal"));
    private final ScheduledExecutorService restarts = Executors.newSingleThreadScheduledExecutor(
            r -> daemon(r, "pgtrickle-wal-restart"));
    private volatile DebeziumEngine<RecordChangeEvent<SourceRecord>> engine;
    private volatile boolean closing;
    private volatile String lastError;
    private int failures;

    private WalCapture(EngineConfig config, DataSource dataSource, CaptureObserver observer,
                       java.util.function.LongConsumer markerTransaction,
                       java.util.concurrent.atomic.AtomicLong ingestTransactions) {
        this.ingestTransactions = ingestTransactions;
        this.config = config;
        this.dataSource = dataSource;
        this.observer = observer;
        this.markerTransaction = markerTransaction;
    }

    /** @param ingestTransactions counts each write transaction of the ingester once it ended (see Capture) */
    static WalCapture start(EngineConfig config, DataSource dataSource,
                            CaptureObserver observer, java.util.function.LongConsumer markerTransaction,
                            java.util.concurrent.atomic.AtomicLong ingestTransactions) {
        WalCapture capture = new WalCapture(config, dataSource, observer, markerTransaction, ingestTransactions);
        capture.launch();
        return capture;
    }

    /** Creates the engine's slot if it is missing, so changes are retained from now on. */
    static void ensureSlot(Connection c, String slot) throws SQLException {
        String database = Jdbc.queryValue(c, String.class,
                "SELECT database FROM pg_replication_slots WHERE slot_name = ?", slot);
        if (database == null) {
            Jdbc.call(c, "SELECT pg_create_logical_replication_slot(?, 'pgoutput')", slot);
            log.info("created replication slot {}", slot);
        } else if (!database.equals(Jdbc.queryValue(c, String.class, "SELECT current_database()"))) {
            throw new PgTrickleException(ErrorCode.INVALID_ARGUMENT, "replication slot " + slot
                    + " belongs to database " + database + "; give this database's engine another slot name");
        }
    }

    private synchronized void launch() {
        if (closing) {
            return;
        }
        ChangeIngester ingester = new ChangeIngester(dataSource, this::markerSeen, markers::containsKey, observer,
                ingestTransactions::incrementAndGet);
        engine = DebeziumEngine.create(ChangeEventFormat.of(Connect.class))
                .using(properties())
                .notifying(ingester)
                .using((success, message, error) -> stopped(success, message, error))
                .build();
        runner.execute(engine);
    }

    private void stopped(boolean success, String message, Throwable error) {
        if (closing) {
            return;
        }
        failures++;
        lastError = error != null ? error.getMessage() : message;
        long delay = Math.min(30_000L, 500L * (1L << Math.min(failures - 1, 6)));
        log.warn("WAL capture stopped ({}); restarting in {} ms", lastError, delay);
        restarts.schedule(this::launch, delay, TimeUnit.MILLISECONDS);
    }

    private void markerSeen(String token) {
        failures = 0;
        CompletableFuture<Void> f = markers.remove(token);
        if (f != null) {
            f.complete(null);
        }
    }

    /**
     * Returns once every transaction that committed before the caller's WAL position is buffered.
     *
     * @throws PgTrickleException {@code REFRESH_FAILED} when capture does not catch up in time
     */
    void awaitPast(String walLsn, Duration timeout) {
        String token = UUID.randomUUID().toString();
        CompletableFuture<Void> seen = new CompletableFuture<>();
        markers.put(token, seen);
        try {
            try (Connection c = dataSource.getConnection()) {
                markerTransaction.accept(emitMarker(c, token));
            }
            seen.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new PgTrickleException(ErrorCode.REFRESH_FAILED, "change capture has not caught up with WAL position "
                    + walLsn + " within " + timeout.toSeconds() + "s"
                    + (lastError == null ? "" : " (WAL capture is restarting after: " + lastError + ")"));
        } catch (SQLException e) {
            throw new PgTrickleException(ErrorCode.REFRESH_FAILED, "cannot emit the capture marker: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgTrickleException(ErrorCode.INTERNAL, "interrupted while waiting for change capture");
        } catch (ExecutionException e) {
            throw new PgTrickleException(ErrorCode.INTERNAL, "change capture failed", e.getCause());
        } finally {
            markers.remove(token);
        }
    }

    /**
     * The barrier for a process whose WAL is streamed by another engine: emits a marker and waits
     * until that engine's ingester has recorded it in {@code pgtrickle.pgt_capture_markers}.
     *
     * @return false, without waiting further, once the slot is no longer active: the other engine
     *     stopped (or died) before recording the marker, and the caller must stream the WAL itself
     */
    static boolean awaitPastRemote(javax.sql.DataSource dataSource, String slot, String walLsn, Duration timeout,
                                   java.util.function.LongConsumer markerTransaction) {
        String token = UUID.randomUUID().toString();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Connection c = dataSource.getConnection()) {
            markerTransaction.accept(emitMarker(c, token));
            for (int polls = 1; ; polls++) {
                if (Jdbc.queryValue(c, String.class, "SELECT token FROM pgtrickle.pgt_capture_markers WHERE token = ?",
                        token) != null) {
                    return true;
                }
                if (polls % 20 == 0 && !Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class,
                        "SELECT active FROM pg_replication_slots WHERE slot_name = ?", slot))) {
                    return false;
                }
                if (System.nanoTime() > deadline) {
                    throw new PgTrickleException(ErrorCode.REFRESH_FAILED, "the running engine's change capture has not"
                            + " caught up with WAL position " + walLsn + " within " + timeout.toSeconds() + "s");
                }
                Thread.sleep(10);
            }
        } catch (SQLException e) {
            throw new PgTrickleException(ErrorCode.REFRESH_FAILED, "cannot wait for change capture: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PgTrickleException(ErrorCode.INTERNAL, "interrupted while waiting for change capture");
        }
    }

    /** Emits a transactional marker in a transaction of its own; returns that transaction's xid8. */
    private static long emitMarker(Connection c, String token) throws SQLException {
        return Long.parseLong(Jdbc.queryValue(c, String.class, "SELECT pg_current_xact_id()::text"
                + " FROM pg_logical_emit_message(true, ?, ?)", ChangeIngester.MARKER_PREFIX, token));
    }

    private Properties properties() {
        Properties url = Driver.parseURL(config.jdbcUrl(), null);
        if (url == null) {
            throw new PgTrickleException(ErrorCode.INVALID_ARGUMENT, "cannot parse JDBC URL " + config.redactedUrl());
        }
        Properties p = new Properties();
        p.setProperty("name", "pgtrickle");
        p.setProperty("connector.class", "io.debezium.connector.postgresql.PostgresConnector");
        p.setProperty("offset.storage", "org.apache.kafka.connect.storage.MemoryOffsetBackingStore");
        p.setProperty("offset.flush.interval.ms", "200");
        p.setProperty("database.hostname", url.getProperty("PGHOST", "localhost").split(",")[0]);
        p.setProperty("database.port", url.getProperty("PGPORT", "5432").split(",")[0]);
        p.setProperty("database.dbname", url.getProperty("PGDBNAME"));
        String user = config.user() != null ? config.user() : url.getProperty("user", System.getProperty("user.name"));
        p.setProperty("database.user", user);
        String password = config.password() != null ? config.password() : url.getProperty("password");
        if (password != null) {
            p.setProperty("database.password", password);
        }
        p.setProperty("topic.prefix", "pgtrickle");
        p.setProperty("plugin.name", "pgoutput");
        p.setProperty("slot.name", config.slotName());
        p.setProperty("slot.drop.on.stop", "false");
        p.setProperty("publication.name", ChangeSources.PUBLICATION);
        p.setProperty("publication.autocreate.mode", "disabled");
        p.setProperty("snapshot.mode", "no_data");
        p.setProperty("tombstones.on.delete", "false");
        p.setProperty("skipped.operations", "none");
        // Off: BEGIN and END records would triple the decoding work of one-row transactions; the
        // ingester counts positions in a transaction itself (TransactionPositions).
        p.setProperty("provide.transaction.metadata", "false");
        // The barrier's latency against idle CPU: see EngineConfig.capturePollInterval.
        p.setProperty("poll.interval.ms", Long.toString(config.capturePollInterval().toMillis()));
        // Context headers and latency statistics that nothing here reads, computed per event on
        // Debezium's one decoding thread, which bounds the slot's throughput.
        p.setProperty("extended.headers.enabled", "false");
        p.setProperty("statistics.metrics.enabled", "false");
        // pgoutput sends nothing for transactions on untracked tables, so with idle sources the slot
        // would hold back WAL that other writers produce. Each heartbeat emits a logical message,
        // which flows through and lets the slot's confirmed position advance.
        p.setProperty("heartbeat.interval.ms", "5000");
        p.setProperty("heartbeat.action.query",
                "SELECT pg_logical_emit_message(false, '" + ChangeIngester.MARKER_PREFIX + "', '"
                        + ChangeIngester.HEARTBEAT + "')");
        p.setProperty("message.prefix.include.list", ChangeIngester.MARKER_PREFIX);
        p.setProperty("decimal.handling.mode", "string");
        p.setProperty("interval.handling.mode", "string");
        p.setProperty("binary.handling.mode", "bytes");
        p.setProperty("hstore.handling.mode", "json");
        p.setProperty("time.precision.mode", "adaptive_time_microseconds");
        p.setProperty("include.unknown.datatypes", "true");
        // Each column's type name, so RowImages can tell bytea from the text bytes of a type Debezium does not know.
        p.setProperty("column.propagate.source.type", ".*");
        // A value Debezium cannot convert would otherwise become NULL after a warning: a wrong row in
        // every stream table reading it. Failing stops capture visibly (lastError) instead.
        p.setProperty("event.converting.failure.handling.mode", "fail");
        p.setProperty("converters", "pgtrickle_user_types");
        p.setProperty("pgtrickle_user_types.type", UserTypeConverter.class.getName());
        p.setProperty("unavailable.value.placeholder", RowImages.UNAVAILABLE);
        p.setProperty("errors.max.retries", "0");
        return p;
    }

    @Override
    public void close() {
        closing = true;
        restarts.shutdownNow();
        DebeziumEngine<?> e = engine;
        if (e != null) {
            closeEngine(e);
        }
        runner.shutdown();
        try {
            if (!runner.awaitTermination(30, TimeUnit.SECONDS)) {
                runner.shutdownNow();
            }
        } catch (InterruptedException ex) {
            Thread.currentThread().interrupt();
        }
        markers.values().forEach(f -> f.completeExceptionally(new IllegalStateException("capture closed")));
    }

    /**
     * Debezium refuses to stop while its tasks are still starting ("Cannot stop engine while tasks
     * are starting"); an engine closed right after it opened would then leak the stream, so wait
     * for the start to finish, boundedly.
     */
    private static void closeEngine(DebeziumEngine<?> e) {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                e.close();
                return;
            } catch (IOException ex) {
                log.warn("closing Debezium: {}", ex.getMessage());
                return;
            } catch (IllegalStateException starting) {
                if (System.nanoTime() > deadline) {
                    log.warn("closing Debezium: {}", starting.getMessage());
                    return;
                }
                try {
                    Thread.sleep(50);
                } catch (InterruptedException ex) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
