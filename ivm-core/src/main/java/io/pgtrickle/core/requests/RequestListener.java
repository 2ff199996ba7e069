package io.pgtrickle.core.requests;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.sql.AdvisoryLocks;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.function.Supplier;
import org.postgresql.PGConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Waits on {@code LISTEN pgtrickle_requests} and hands pending requests to the processor. It also
 * polls every {@code pollInterval}, so a notification lost while reconnecting costs at most that.
 * Its connection holds the engine-ownership lock: one engine per database.
 */
public final class RequestListener implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(RequestListener.class);

    private final Supplier<Connection> connections;
    private final RequestProcessor processor;
    private final Duration pollInterval;
    private final Thread thread;
    private volatile boolean running = true;
    private Connection connection;

    /**
     * Takes ownership of the database at once.
     *
     * @throws PgTrickleException {@code ENGINE_ALREADY_RUNNING} when another engine owns it
     */
    public RequestListener(Supplier<Connection> connections, RequestProcessor processor, Duration pollInterval) {
        this.connections = connections;
        this.processor = processor;
        this.pollInterval = pollInterval;
        this.connection = connect();
        this.thread = new Thread(this::loop, "pgtrickle-requests");
        this.thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    private Connection connect() {
        Connection c = connections.get();
        try {
            if (!AdvisoryLocks.tryEngineOwnership(c)) {
                c.close();
                throw new PgTrickleException(ErrorCode.ENGINE_ALREADY_RUNNING,
                        "another pg_trickle engine is already running against this database");
            }
            Jdbc.executeRaw(c, "LISTEN pgtrickle_requests");
            return c;
        } catch (SQLException e) {
            closeQuietly(c);
            throw new PgTrickleException(ErrorCode.CONNECTION_FAILED, "cannot listen for requests: " + e.getMessage(), e);
        }
    }

    private void loop() {
        while (running) {
            try {
                if (connection == null || connection.isClosed()) {
                    connection = connect();
                }
                processor.processPending();
                PGConnection pg = connection.unwrap(PGConnection.class);
                pg.getNotifications((int) pollInterval.toMillis());
            } catch (SQLException | RuntimeException e) {
                if (!running) {
                    return;
                }
                log.warn("request listener: {} (reconnecting)", e.getMessage());
                closeQuietly(connection);
                connection = null;
                sleep(Duration.ofSeconds(1));
            }
        }
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(Connection c) {
        if (c != null) {
            try {
                c.close();
            } catch (SQLException ignored) {
                // closing a broken connection
            }
        }
    }

    @Override
    public void close() {
        running = false;
        thread.interrupt();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        closeQuietly(connection);
    }
}
