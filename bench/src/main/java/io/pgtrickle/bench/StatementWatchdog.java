package io.pgtrickle.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.sql.DataSource;

/**
 * Bounds how long one measured step may take. The engine's refresh runs on the engine's own
 * connections, where the benchmark cannot set {@code statement_timeout}; so when a step overruns,
 * the watchdog cancels (pg_cancel_backend) every busy backend of this database with the given
 * application name, and the step fails with PostgreSQL's "canceling statement" error. A run then
 * records the step as timed out and goes on, instead of waiting for one pathological query.
 */
public final class StatementWatchdog implements AutoCloseable {
    private final DataSource dataSource;
    private final Duration timeout;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bench-watchdog");
        t.setDaemon(true);
        return t;
    });

    public StatementWatchdog(DataSource dataSource, Duration timeout) {
        this.dataSource = dataSource;
        this.timeout = timeout;
    }

    public Duration timeout() {
        return timeout;
    }

    /** One guarded step; {@link #fired()} says whether it was cancelled. */
    public final class Guard implements AutoCloseable {
        private final ScheduledFuture<?> task;
        private final AtomicBoolean fired = new AtomicBoolean();

        private Guard(String applicationName) {
            task = timer.schedule(() -> cancel(applicationName, fired), timeout.toMillis(), TimeUnit.MILLISECONDS);
        }

        public boolean fired() {
            return fired.get();
        }

        @Override
        public void close() {
            task.cancel(false);
        }
    }

    /** Starts guarding a step whose statements run on connections named {@code applicationName}. */
    public Guard guard(String applicationName) {
        return new Guard(applicationName);
    }

    private void cancel(String applicationName, AtomicBoolean fired) {
        fired.set(true);
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT count(pg_cancel_backend(pid)) FROM pg_stat_activity"
                     + " WHERE datname = current_database() AND application_name = ? AND state = 'active'"
                     + " AND backend_type = 'client backend' AND pid <> pg_backend_pid()")) {
            ps.setString(1, applicationName);
            ps.execute();
        } catch (SQLException e) {
            // Nothing more to do: the step goes on and ends when it ends.
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
