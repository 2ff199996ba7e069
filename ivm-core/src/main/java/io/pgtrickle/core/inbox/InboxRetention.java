package io.pgtrickle.core.inbox;

import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes processed events older than their inbox's {@code retention_hours}: a housekeeping task of
 * the running engine that calls {@code pgtrickle._apply_inbox_retention()} at most once per
 * interval (retention is counted in hours, so once a minute is plenty, and an idle engine pays one
 * small query a minute). The first pass runs at the engine's first tick. A pass never throws: a
 * failure is logged and the next pass tries again. Pending and dead-lettered events are never
 * deleted, whatever their age.
 */
public final class InboxRetention {
    private static final Logger log = LoggerFactory.getLogger(InboxRetention.class);
    public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(1);

    /** What one pass deleted from one inbox. */
    public record Expired(String inbox, long deleted) {
    }

    private final DataSource dataSource;
    private final Duration interval;
    private long lastPass;
    private boolean passed;

    public InboxRetention(DataSource dataSource, Duration interval) {
        if (interval == null || interval.isNegative()) {
            throw new IllegalArgumentException("inbox retention interval must be zero or positive, got " + interval);
        }
        this.dataSource = dataSource;
        this.interval = interval;
    }

    /** A housekeeping pass: does nothing until the interval has passed since the last one. */
    public synchronized void run() {
        long now = System.nanoTime();
        if (passed && now - lastPass < interval.toNanos()) {
            return;
        }
        passed = true;
        lastPass = now;
        try {
            for (Expired e : runNow()) {
                if (e.deleted() > 0) {
                    log.info("inbox {}: deleted {} processed events past its retention", e.inbox(), e.deleted());
                }
            }
        } catch (SQLException e) {
            log.warn("inbox retention failed, trying again in {}: {}", interval, e.getMessage());
        }
    }

    /** One pass now, whatever the interval; returns what it deleted per inbox. */
    public List<Expired> runNow() throws SQLException {
        List<Expired> expired = new ArrayList<>();
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = Jdbc.prepare(c, "SELECT inbox, deleted FROM pgtrickle._apply_inbox_retention()");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                expired.add(new Expired(rs.getString(1), rs.getLong(2)));
            }
        }
        return expired;
    }
}
