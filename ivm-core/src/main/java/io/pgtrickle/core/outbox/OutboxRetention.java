package io.pgtrickle.core.outbox;

import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's retention pass over the outboxes: removes entries older than their outbox's
 * {@code retention_hours} that every consumer group reading it has committed (all those older
 * than the retention when no group reads it), with their side-table rows, through
 * {@code pgtrickle._apply_outbox_retention}.
 *
 * <p>A scheduler housekeeping task: {@link #run} does nothing until {@code interval} has passed
 * since the last pass (the first call passes at once). A pass removes at most
 * {@link #ROUNDS_PER_PASS} rounds of {@link #ROWS_PER_ROUND} entries per outbox, each round a
 * short transaction of its own, so refreshes are never held up for long; when that was not
 * enough, the next call goes on without waiting for the interval. It never throws: a failure is
 * logged and the next pass tries again.
 */
public final class OutboxRetention {
    private static final Logger log = LoggerFactory.getLogger(OutboxRetention.class);

    /** How often the engine applies retention: entries live for hours, so a minute late is nothing. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(1);
    /** Most entries removed per outbox in one transaction. */
    public static final int ROWS_PER_ROUND = 10_000;
    /** Most rounds in one pass. */
    public static final int ROUNDS_PER_PASS = 10;

    private final DataSource dataSource;
    private final Duration interval;
    private final AtomicLong removed = new AtomicLong();
    private long lastPass;
    private boolean passed;

    public OutboxRetention(DataSource dataSource, Duration interval) {
        if (interval == null || interval.isNegative()) {
            throw new IllegalArgumentException("outbox retention interval must be zero or positive, got " + interval);
        }
        this.dataSource = dataSource;
        this.interval = interval;
    }

    /** Entries removed since the engine opened. */
    public long removed() {
        return removed.get();
    }

    /** A housekeeping pass, if the interval has passed (or the last pass left work behind). */
    public synchronized void run() {
        long now = System.nanoTime();
        if (passed && now - lastPass < interval.toNanos()) {
            return;
        }
        passed = true;
        lastPass = now;
        long total = 0;
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(true);
            for (int round = 0; round < ROUNDS_PER_PASS; round++) {
                Long n = Jdbc.queryValue(c, Long.class, "SELECT pgtrickle._apply_outbox_retention(?)", ROWS_PER_ROUND);
                long got = n == null ? 0 : n;
                total += got;
                if (got == 0) {
                    break;
                }
                if (round == ROUNDS_PER_PASS - 1) {
                    passed = false;   // more may be left: the next tick goes on
                }
            }
        } catch (SQLException e) {
            log.warn("outbox retention failed (will retry in {}): {}", interval, e.getMessage());
        }
        if (total > 0) {
            removed.addAndGet(total);
            log.debug("outbox retention removed {} entries", total);
        }
    }
}
