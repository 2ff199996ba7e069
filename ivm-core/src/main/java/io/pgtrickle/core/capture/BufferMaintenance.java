package io.pgtrickle.core.capture;

import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the change buffers small whatever autovacuum does (issue 11). Every refresh deletes the
 * rows all readers have consumed ({@link Capture#cleanup}), so a buffer is an append-then-delete
 * queue: with autovacuum off (or too slow) its dead rows pile up, and every window read scans them
 * (a 2.1 GB buffer of 12.8 million dead rows and 20 live ones made an idle refresh take 0.4 s).
 * A housekeeping pass, at most once per {@link Policy#interval}, looks at each buffer that has
 * grown past {@link Policy#minBytes} and:
 *
 * <ul>
 *   <li><b>holds no unconsumed row: TRUNCATE</b> it, in a transaction that takes the ACCESS
 *       EXCLUSIVE lock under {@code SET LOCAL lock_timeout} (skipped when busy, so an ingester
 *       batch or a user's trigger write waits at most that long) and checks under that lock that
 *       every row left is consumed by every reader. TRUNCATE frees heap, index and TOAST at once,
 *       and needs no xmin horizon (VACUUM cannot remove rows an old snapshot might still see).
 *       "Consumed", not "empty": under WAL capture the ingester writes a window's rows after the
 *       refresh took its snapshot, so that refresh's cleanup cannot see (and delete) them, and a
 *       buffer would never be empty between two refreshes of a busy source.
 *   <li><b>otherwise, when dead rows dominate</b> ({@code n_dead_tup} above
 *       {@link Policy#vacuumDeadRows} and above {@code n_live_tup}, from pg_stat_user_tables):
 *       a plain {@code VACUUM (SKIP_LOCKED)} from an autocommit connection (VACUUM cannot run in a
 *       transaction block; it does not block writers).
 * </ul>
 *
 * <p><b>Why TRUNCATE loses nothing.</b> TRUNCATE is not MVCC-safe: a transaction whose snapshot
 * predates it sees the table empty afterwards. That is harmless here because of what a buffer's
 * readers need:
 * <ol>
 *   <li>A refresh needs only the rows its stream table has not consumed: transactions visible in
 *       its snapshot and not in its previous frontier. Cleanup deletes a row only once it is
 *       visible in the committed frontier of every reader, and a frontier only moves forward
 *       (refreshes of one stream table are serialized; a new stream table's first frontier is
 *       taken while refreshes are locked out, so it includes every older frontier), so an
 *       unconsumed row is never deleted: it is live. The check under the lock sees every
 *       committed live row and every committed frontier (READ COMMITTED: its snapshot is taken
 *       after the lock is granted), so a buffer it finds fully consumed holds no row any reader,
 *       with any snapshot, still needs: the rows it removes are those a cleanup may delete.
 *   <li>A row being inserted (WAL ingester batch, or a trigger in a user's transaction) belongs to
 *       a transaction that holds ROW EXCLUSIVE on the buffer until it ends; the ACCESS EXCLUSIVE
 *       lock waits for it (or times out and skips). Once that transaction committed, its row is
 *       live and seen by the check; if it rolled back, there is nothing to keep.
 *   <li>A row inserted after the TRUNCATE commits goes into the new, empty file like any other.
 * </ol>
 * The check scans the buffer, which is cheap because the buffer is kept small; a first pass over
 * an already bloated buffer pays one scan of it. It runs once without the lock first (after a
 * look at the newest row, which under load is the unconsumed one), so a buffer with unconsumed
 * rows never takes the lock.
 *
 * <p>Counters ({@link #counts()}) say what it did. The pass never throws: a failure is logged and
 * the next pass tries again, so refreshes are never held up by it.
 */
public final class BufferMaintenance {
    private static final Logger log = LoggerFactory.getLogger(BufferMaintenance.class);
    /** SQLSTATE lock_not_available: the lock_timeout fired. */
    private static final String LOCK_NOT_AVAILABLE = "55P03";

    /**
     * When to act.
     *
     * @param interval least time between two passes over the buffers
     * @param minBytes a buffer smaller than this (pg_total_relation_size) is left alone: nothing worth
     *     the catalog churn of a TRUNCATE (each one rewrites pg_class rows, which bloat too)
     * @param vacuumDeadRows a buffer with live rows is vacuumed once it has more dead rows than this
     *     (and more dead than live)
     * @param lockTimeout longest wait for the ACCESS EXCLUSIVE lock before TRUNCATE is skipped
     */
    public record Policy(Duration interval, long minBytes, long vacuumDeadRows, Duration lockTimeout) {
        /** Every 2 s; buffers over 256 kB; VACUUM past 10,000 dead rows; a 50 ms lock wait at most. */
        public static final Policy DEFAULT = new Policy(Duration.ofSeconds(2), 256 * 1024, 10_000, Duration.ofMillis(50));

        public Policy {
            if (interval == null || interval.isNegative()) {
                throw new IllegalArgumentException("buffer maintenance interval must be zero or positive, got " + interval);
            }
            if (minBytes < 0 || vacuumDeadRows < 0) {
                throw new IllegalArgumentException("buffer maintenance thresholds must be zero or positive, got minBytes "
                        + minBytes + ", vacuumDeadRows " + vacuumDeadRows);
            }
            // lock_timeout = 0 means "wait forever": writers would queue behind the TRUNCATE.
            if (lockTimeout == null || lockTimeout.toMillis() < 1) {
                throw new IllegalArgumentException("buffer maintenance lockTimeout must be at least 1 ms, got " + lockTimeout);
            }
        }
    }

    /**
     * What maintenance has done since the engine opened.
     *
     * @param truncated buffers truncated
     * @param vacuumed buffers vacuumed
     * @param busy TRUNCATEs skipped because a writer or a refresh held the buffer past the lock timeout
     * @param refilled TRUNCATEs skipped because an unconsumed row had arrived by the time the lock was granted
     */
    public record Counts(long truncated, long vacuumed, long busy, long refilled) {
    }

    /** One buffer as the statistics see it. */
    private record BufferState(long relid, String table, long bytes, long liveRows, long deadRows) {
        String qualified() {
            return "pgtrickle_changes." + Identifiers.quote(table);
        }
    }

    private final DataSource dataSource;
    private final Policy policy;
    private final AtomicLong truncated = new AtomicLong();
    private final AtomicLong vacuumed = new AtomicLong();
    private final AtomicLong busy = new AtomicLong();
    private final AtomicLong refilled = new AtomicLong();
    private long lastPass;
    private boolean passed;

    public BufferMaintenance(DataSource dataSource, Policy policy) {
        this.dataSource = dataSource;
        this.policy = policy;
    }

    public Policy policy() {
        return policy;
    }

    public Counts counts() {
        return new Counts(truncated.get(), vacuumed.get(), busy.get(), refilled.get());
    }

    /** A housekeeping pass: does nothing until {@link Policy#interval} has passed since the last one. */
    public synchronized void run() {
        long now = System.nanoTime();
        if (passed && now - lastPass < policy.interval().toNanos()) {
            return;
        }
        passed = true;
        lastPass = now;
        List<BufferState> buffers;
        try (Connection c = dataSource.getConnection()) {
            buffers = grownBuffers(c);
        } catch (SQLException e) {
            log.warn("could not read the sizes of the change buffers: {}", e.getMessage());
            return;
        }
        for (BufferState b : buffers) {
            try {
                maintain(b);
            } catch (SQLException e) {
                log.warn("could not shrink change buffer {} ({} bytes, {} dead rows): {}", b.qualified(), b.bytes(),
                        b.deadRows(), e.getMessage());
            }
        }
    }

    private List<BufferState> grownBuffers(Connection c) throws SQLException {
        List<BufferState> found = new ArrayList<>();
        try (PreparedStatement ps = Jdbc.prepare(c, "SELECT s.source_relid::bigint, s.buffer_table, pg_total_relation_size(r.oid),"
                + " coalesce(t.n_live_tup, 0), coalesce(t.n_dead_tup, 0)"
                + " FROM pgtrickle.pgt_change_sources s"
                + " JOIN pg_class r ON r.relname = s.buffer_table AND r.relnamespace = 'pgtrickle_changes'::regnamespace"
                + " LEFT JOIN pg_stat_user_tables t ON t.relid = r.oid"
                + " WHERE pg_total_relation_size(r.oid) >= ? ORDER BY s.source_relid", policy.minBytes());
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                found.add(new BufferState(rs.getLong(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getLong(5)));
            }
        }
        return found;
    }

    private void maintain(BufferState b) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(true);
            // Without the lock first: a buffer with unconsumed rows never takes (or waits for) the exclusive lock.
            if (!newestRowUnconsumed(c, b) && fullyConsumed(c, b) && truncateIfConsumed(c, b)) {
                return;
            }
            if (b.deadRows() > policy.vacuumDeadRows() && b.deadRows() > b.liveRows()) {
                // VACUUM's own lock does not conflict with writers; SKIP_LOCKED passes if another VACUUM runs.
                Jdbc.executeRaw(c, "VACUUM (SKIP_LOCKED) " + b.qualified());
                vacuumed.incrementAndGet();
                log.debug("vacuumed change buffer {}: {} dead rows, {} live, {} bytes before", b.qualified(),
                        b.deadRows(), b.liveRows(), b.bytes());
            }
        }
    }

    /** The quick test: rows arrive in xid order, mostly, so under load the newest is unconsumed. */
    private static boolean newestRowUnconsumed(Connection c, BufferState b) throws SQLException {
        return Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class, "SELECT EXISTS (SELECT 1 FROM (SELECT xid FROM "
                + b.qualified() + " ORDER BY xid DESC, seq DESC LIMIT 1) b WHERE NOT " + Capture.consumedByEveryReader("b")
                + ")", b.relid()));
    }

    /** Whether every row in the buffer is consumed by every reader (true when it is empty). */
    private static boolean fullyConsumed(Connection c, BufferState b) throws SQLException {
        return Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class, "SELECT NOT EXISTS (SELECT 1 FROM " + b.qualified()
                + " b WHERE NOT " + Capture.consumedByEveryReader("b") + ")", b.relid()));
    }

    /** TRUNCATE under the exclusive lock, if the buffer is still fully consumed then; false when skipped. */
    private boolean truncateIfConsumed(Connection c, BufferState b) throws SQLException {
        c.setAutoCommit(false);
        try {
            Jdbc.executeRaw(c, "SET LOCAL lock_timeout = '" + policy.lockTimeout().toMillis() + "ms'");
            Jdbc.executeRaw(c, "LOCK TABLE " + b.qualified() + " IN ACCESS EXCLUSIVE MODE");
            // A statement after the lock: its snapshot sees every row committed before the lock was granted.
            if (!fullyConsumed(c, b)) {
                c.rollback();
                refilled.incrementAndGet();
                return false;
            }
            Jdbc.executeRaw(c, "TRUNCATE " + b.qualified());
            c.commit();
            truncated.incrementAndGet();
            log.debug("truncated change buffer {}: every row consumed, {} bytes and about {} dead rows freed", b.qualified(),
                    b.bytes(), b.deadRows());
            return true;
        } catch (SQLException e) {
            c.rollback();
            if (LOCK_NOT_AVAILABLE.equals(e.getSQLState())) {
                busy.incrementAndGet();
                log.debug("change buffer {} is being written; TRUNCATE skipped until the next pass", b.qualified());
                return false;
            }
            throw e;
        } finally {
            c.setAutoCommit(true);
        }
    }
}
