package io.pgtrickle.core.sql;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Session-level advisory locks that serialize work across engine threads and processes. They are
 * taken before a transaction begins, so a REPEATABLE READ snapshot is never older than the lock.
 */
public final class AdvisoryLocks {
    /** Lock space of per-stream-table locks; the second key is the stream table id. */
    private static final int STREAM_TABLE = 0x50475401;
    /** Lock space of catalog-wide locks. */
    /** Lock space of catalog-wide locks; V3__monitoring.sql looks for the engine lock by this value. */
    private static final int GLOBAL = 0x50475402;
    private static final int LIFECYCLE = 1;
    private static final int ENGINE_OWNER = 2;
    // Key 7 of GLOBAL is taken in SQL: pgtrickle._reconcile_capture() (V7__source_hierarchies.sql).

    private AdvisoryLocks() {
    }

    /**
     * Held while one stream table refreshes: shared with other refreshes, exclusive of lifecycle
     * changes (which take {@link #withLifecycleLock}), and exclusive per stream table.
     */
    public static <T> T withStreamTableLock(Connection c, long id, Jdbc.Work<T> work) throws SQLException {
        // Both in one round trip, in this order (a select list is evaluated left to right), and
        // released together.
        try {
            Jdbc.call(c, "SELECT pg_advisory_lock_shared(?, ?), pg_advisory_lock(?, ?)", GLOBAL, LIFECYCLE, STREAM_TABLE,
                    (int) id);
        } catch (SQLException | RuntimeException e) {
            // Cancelled while waiting for the second: the first must not stay with the pooled session.
            releaseQuietly(c, "SELECT pg_advisory_unlock_shared(?, ?)", GLOBAL, LIFECYCLE);
            throw e;
        }
        try {
            return work.run(c);
        } finally {
            if (!c.isClosed()) {
                Jdbc.call(c, "SELECT pg_advisory_unlock(?, ?), pg_advisory_unlock_shared(?, ?)", STREAM_TABLE, (int) id,
                        GLOBAL, LIFECYCLE);
            }
        }
    }

    /**
     * {@link #withStreamTableLock} for the stream table named {@code schema.name}, found and locked
     * in one round trip; {@code work} gets its id. Returns {@code null}, without running
     * {@code work} or locking anything, when there is no such stream table. As with a lookup
     * before locking, the stream table may be dropped while the lock is awaited: {@code work}
     * then finds no row for the id.
     */
    public static <T> T withStreamTableLockByName(Connection c, String schema, String name, IdWork<T> work)
            throws SQLException {
        Long id;
        // ((id << 32) >> 32)::int is Java's (int) id, the key withStreamTableLock uses.
        try (var ps = Jdbc.prepare(c, "SELECT st.pgt_id, pg_advisory_lock_shared(?, ?), pg_advisory_lock(?,"
                + " ((st.pgt_id << 32) >> 32)::int) FROM pgtrickle.pgt_stream_tables st WHERE st.pgt_schema = ?"
                + " AND st.pgt_name = ?", GLOBAL, LIFECYCLE, STREAM_TABLE, schema, name);
             var rs = ps.executeQuery()) {
            id = rs.next() ? rs.getLong(1) : null;
        } catch (SQLException | RuntimeException e) {
            releaseQuietly(c, "SELECT pg_advisory_unlock_shared(?, ?)", GLOBAL, LIFECYCLE);
            throw e;
        }
        if (id == null) {
            return null;
        }
        try {
            return work.run(c, id);
        } finally {
            if (!c.isClosed()) {
                Jdbc.call(c, "SELECT pg_advisory_unlock(?, ?), pg_advisory_unlock_shared(?, ?)", STREAM_TABLE,
                        (int) (long) id, GLOBAL, LIFECYCLE);
            }
        }
    }

    /** Work done with a connection for the stream table of an id. */
    @FunctionalInterface
    public interface IdWork<T> {
        T run(Connection connection, long id) throws SQLException;
    }

    private static void releaseQuietly(Connection c, String sql, Object... keys) {
        try {
            if (!c.isClosed()) {
                // Not held: false and a warning, nothing else.
                Jdbc.call(c, sql, keys);
            }
        } catch (SQLException ignored) {
            // The session is gone, and its locks with it.
        }
    }

    /**
     * Takes, for the caller's transaction and without waiting, what {@link #withStreamTableLock}
     * takes for a session: the shared lifecycle lock and each of {@code ids}' own lock. Returns the
     * ids locked; none when a lifecycle change holds the catalog. The locks go with the transaction.
     */
    public static java.util.Set<Long> tryStreamTableLocksForTransaction(Connection c, java.util.Collection<Long> ids)
            throws SQLException {
        java.util.Set<Long> locked = new java.util.LinkedHashSet<>();
        // The lifecycle lock is an InitPlan, taken once; when it fails no stream table is locked.
        // ((id << 32) >> 32)::int is Java's (int) id, the key withStreamTableLock uses.
        try (var ps = c.prepareStatement("SELECT id FROM unnest(?::bigint[]) id"
                + " WHERE (SELECT pg_try_advisory_xact_lock_shared(?, ?)) AND pg_try_advisory_xact_lock(?, ((id << 32) >> 32)::int)")) {
            ps.setArray(1, c.createArrayOf("bigint", ids.toArray()));
            ps.setInt(2, GLOBAL);
            ps.setInt(3, LIFECYCLE);
            ps.setInt(4, STREAM_TABLE);
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    locked.add(rs.getLong(1));
                }
            }
        }
        return locked;
    }

    /** Serializes create, alter and drop, which read and change the dependency graph, with refreshes. */
    public static <T> T withLifecycleLock(Connection c, Jdbc.Work<T> work) throws SQLException {
        return withLock(c, GLOBAL, LIFECYCLE, false, work);
    }

    /** Tries to become the one engine that schedules this database; held for the session. */
    public static boolean tryEngineOwnership(Connection c) throws SQLException {
        return Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class, "SELECT pg_try_advisory_lock(?, ?)",
                GLOBAL, ENGINE_OWNER));
    }

    private static <T> T withLock(Connection c, int space, int key, boolean shared, Jdbc.Work<T> work)
            throws SQLException {
        String suffix = shared ? "_shared" : "";
        Jdbc.call(c, "SELECT pg_advisory_lock" + suffix + "(?, ?)", space, key);
        try {
            return work.run(c);
        } finally {
            if (!c.isClosed()) {
                Jdbc.call(c, "SELECT pg_advisory_unlock" + suffix + "(?, ?)", space, key);
            }
        }
    }
}
