package io.pgtrickle.core.capture;

import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.SqlCheck;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What WAL capture is known to have buffered, so that a refresh can do without the capture
 * barrier when nothing can have slipped in since the last one.
 *
 * <p>A barrier passed for snapshot B (its marker was emitted after B's WAL position and seen)
 * proves that every transaction visible in B is buffered. For a later snapshot S, the
 * transactions visible in S and not in B are the only ones that may not be. When each of them is
 * known to have written nothing capture reads, S is covered too and its refresh needs no marker.
 * This process knows such transactions of its own: barrier markers, and refreshes and idle
 * confirmations that changed no stream table (they wrote only the catalog, history and buffers,
 * none of which is in the publication); aborted transactions wrote nothing. Any other transaction
 * in between — a writer, another engine, a refresh that changed rows — means a barrier.
 *
 * <p>The transactions in between are enumerated by id between B's xmin and S's xmax; a span of
 * more than {@value #MAX_SPAN} ids is not examined (the barrier is cheaper then). Snapshot
 * visibility ({@code pg_visible_in_snapshot}) says nothing of subtransactions of transactions
 * running at S, so such ids count as unknown: never wrongly covered, only a barrier more.
 */
final class BufferedHorizon {
    private static final long MAX_SPAN = 10_000;

    private volatile String confirmed;
    private final Set<Long> harmless = ConcurrentHashMap.newKeySet();

    /** Records that every transaction visible in {@code snapshot} is buffered. */
    synchronized void confirm(String snapshot) {
        if (confirmed == null || xmax(snapshot) > xmax(confirmed)) {
            confirmed = snapshot;
            long xmin = xmin(snapshot);
            harmless.removeIf(x -> x < xmin); // visible in every later snapshot as in this one
        }
    }

    /** Records a transaction of this process that wrote nothing that capture reads. */
    void harmless(long xid8) {
        harmless.add(xid8);
    }

    /** Whether every transaction visible in {@code snapshot} is known to be buffered. */
    boolean covers(Connection c, String snapshot) throws SQLException {
        SqlCheck check = check(c, snapshot);
        if (check == null) {
            return false;
        }
        try (var ps = Jdbc.prepare(c, "SELECT " + check.sql(), check.parameters().toArray()); var rs = ps.executeQuery()) {
            return rs.next() && rs.getBoolean(1);
        }
    }

    /**
     * {@link #covers} as an SQL expression, to evaluate with other checks; {@code null} when the
     * answer is no without asking (no barrier yet, or too long a span).
     */
    SqlCheck check(Connection c, String snapshot) throws SQLException {
        String base = confirmed;
        if (base == null) {
            return null;
        }
        long from = xmin(base);
        long to = xmax(snapshot);
        if (to - from > MAX_SPAN) {
            return null;
        }
        Long[] known = harmless.toArray(Long[]::new);
        return SqlCheck.of("""
                NOT EXISTS (
                  SELECT 1 FROM generate_series(?::bigint, ?::bigint - 1) x
                   WHERE pg_visible_in_snapshot(x::text::xid8, ?::pg_snapshot)
                     AND NOT pg_visible_in_snapshot(x::text::xid8, ?::pg_snapshot)
                     AND x <> ALL (?::bigint[])
                     AND pg_xact_status(x::text::xid8) IS DISTINCT FROM 'aborted')""",
                from, to, snapshot, base, c.createArrayOf("bigint", known));
    }

    private static long xmin(String snapshot) {
        return Long.parseLong(snapshot.substring(0, snapshot.indexOf(':')));
    }

    private static long xmax(String snapshot) {
        int first = snapshot.indexOf(':');
        return Long.parseLong(snapshot.substring(first + 1, snapshot.indexOf(':', first + 1)));
    }
}
