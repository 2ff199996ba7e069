package io.pgtrickle.core.refresh;

import io.pgtrickle.core.capture.Capture;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.capture.ChangeSource;
import io.pgtrickle.core.sql.AdvisoryLocks;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Confirms, for many due stream tables at once, that none of their sources changed since their
 * frontier, and moves those stream tables' frontier forward without refreshing them: one
 * snapshot, one capture barrier and one statement for the whole scheduler tick, instead of one
 * refresh transaction (snapshot, barrier, window copy, delta query, history row) per stream table.
 *
 * <p><b>Why this is exact.</b> Take snapshot S0 and WAL position L0 in one statement; every
 * transaction visible in S0 committed before L0 (DESIGN §2.4, step 1). After the capture barrier
 * past L0 (step 2) every such transaction is in the change buffers: WAL capture has buffered it,
 * trigger capture wrote it in the writer's own transaction. A stream table whose contents are its
 * query at frontier F, whose every source is a captured table or stream table (views count
 * through the tables under them, which are dependencies too), and none of whose sources has a
 * buffered row visible in S0 and not in F, has contents equal to its query at S0: nothing it reads
 * changed between F and S0. Storing S0 as its frontier is then what a refresh at S0 would store.
 * A TRUNCATE, or a partition attached or detached, leaves a weight-0 row in the buffer, so it
 * counts as a change and takes the full path.
 *
 * <p>Guards, all checked in the one UPDATE under the stream tables' own locks (the transaction's
 * advisory locks, the same keys a refresh takes for its session, so no refresh runs meanwhile;
 * busy ones are left to the normal path): F must not be newer than S0 (a manual refresh may have
 * committed a later frontier after S0 was taken: moving it back would apply that window twice),
 * the stream table must be ACTIVE, differential and without errors (an ERROR needs a real refresh
 * to clear), and no source or function event may be pending for it (a redefined view or function
 * is re-planned and refilled by the normal path). Without the event trigger that records those
 * events, a source change would only be noticed by a refresh running the query, so then nothing is
 * confirmed here.
 *
 * <p><b>What is recorded.</b> The frontier, {@code data_timestamp} and {@code last_refresh_at}
 * move to S0's time; no history row is written. History records refreshes that did work (or
 * failed); an idle scheduler writing a row per stream table per tick would grow it without telling
 * anything, and the cost model would learn nothing from it. A manual refresh always takes the
 * full path and records its row.
 *
 * <p>Cascades: a stream table confirmed here whose upstream stream table is then refreshed with
 * changes in the same tick must still be refreshed afterwards in that tick (the scheduler does),
 * because S0 precedes the upstream's new rows.
 */
final class IdleConfirmation {
    private final DataSource dataSource;
    private final Capture capture;

    IdleConfirmation(DataSource dataSource, Capture capture) {
        this.dataSource = dataSource;
        this.capture = capture;
    }

    /** Returns the ids among {@code candidates} confirmed current; their frontier is now S0. */
    Set<Long> confirm(Collection<Long> candidates) throws SQLException {
        if (candidates.isEmpty()) {
            return Set.of();
        }
        try (Connection c = dataSource.getConnection()) {
            return Jdbc.inTransaction(c, Connection.TRANSACTION_READ_COMMITTED, tx -> confirmLocked(tx, candidates));
        }
    }

    private Set<Long> confirmLocked(Connection tx, Collection<Long> candidates) throws SQLException {
        Set<Long> locked = AdvisoryLocks.tryStreamTableLocksForTransaction(tx, candidates);
        if (locked.isEmpty()) {
            return Set.of();
        }
        // Readers per buffer; a stream table with a source that is not captured cannot be confirmed.
        Map<Long, ChangeSource> tracked = new HashMap<>();
        Map<Long, List<Long>> readers = new LinkedHashMap<>();
        Set<Long> confirmable = new LinkedHashSet<>(locked);
        try (PreparedStatement ps = tx.prepareStatement("""
                SELECT d.pgt_id, d.source_relid::bigint, d.source_kind, cs.source_schema, cs.source_name, cs.cdc_mode,
                       cs.buffer_table,
                       EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pgtrickle_table_ddl' AND evtenabled <> 'D')
                  FROM pgtrickle.pgt_dependencies d
                  LEFT JOIN pgtrickle.pgt_change_sources cs ON cs.source_relid = d.source_relid
                 WHERE d.pgt_id = ANY (?::bigint[])""")) {
            ps.setArray(1, array(tx, locked));
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    if (!rs.getBoolean(8)) {
                        return Set.of(); // no event trigger: see the class comment
                    }
                    long id = rs.getLong(1);
                    long relid = rs.getLong(2);
                    String kind = rs.getString(3);
                    if ("VIEW".equals(kind)) {
                        continue; // the tables under it are dependencies of their own
                    }
                    if (!("TABLE".equals(kind) || "STREAM_TABLE".equals(kind)) || rs.getString(7) == null) {
                        confirmable.remove(id);
                    } else {
                        tracked.putIfAbsent(relid, new ChangeSource(relid, new QualifiedName(rs.getString(4),
                                rs.getString(5)), CdcMode.valueOf(rs.getString(6)), rs.getString(7)));
                        readers.computeIfAbsent(relid, r -> new ArrayList<>()).add(id);
                    }
                }
            }
        }
        readers.values().forEach(ids -> ids.retainAll(confirmable));
        readers.values().removeIf(List::isEmpty);
        if (confirmable.isEmpty()) {
            return Set.of();
        }
        String snapshot;
        String walLsn;
        OffsetDateTime at;
        try (Statement s = tx.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT pg_current_snapshot()::text, pg_current_wal_insert_lsn()::text, clock_timestamp()")) {
            rs.next();
            snapshot = rs.getString(1);
            walLsn = rs.getString(2);
            at = rs.getObject(3, OffsetDateTime.class);
        }
        capture.awaitBuffered(tx, readers.keySet().stream().map(tracked::get).toList(), snapshot, walLsn);
        return advance(tx, confirmable, readers, tracked, snapshot, at);
    }

    /** The one UPDATE: moves the frontier of every guard-passing stream table with nothing new to S0. */
    private Set<Long> advance(Connection tx, Set<Long> confirmable, Map<Long, List<Long>> readers,
                                     Map<Long, ChangeSource> tracked, String snapshot, OffsetDateTime at)
            throws SQLException {
        StringBuilder changed = new StringBuilder("false");
        for (long relid : readers.keySet()) {
            // Buffer names come from the catalog and are quoted; the snapshots are bound.
            changed.append("\n OR (st.pgt_id = ANY (?::bigint[]) AND EXISTS (SELECT 1 FROM ")
                    .append(tracked.get(relid).buffer())
                    .append(" b WHERE pg_visible_in_snapshot(b.xid, ?::pg_snapshot)")
                    .append(" AND NOT pg_visible_in_snapshot(b.xid, st.frontier)))");
        }
        String sql = """
                UPDATE pgtrickle.pgt_stream_tables st
                   SET frontier = ?::pg_snapshot, data_timestamp = ?, last_refresh_at = ?
                 WHERE st.pgt_id = ANY (?::bigint[])
                   AND st.status = 'ACTIVE' AND st.effective_mode = 'DIFFERENTIAL' AND st.consecutive_errors = 0
                   AND st.frontier IS NOT NULL
                   -- F is not newer than S0: F's xids are all decided in S0 as they are in F
                   AND pg_snapshot_xmax(st.frontier) <= pg_snapshot_xmax(?::pg_snapshot)
                   AND NOT EXISTS (SELECT 1 FROM pg_snapshot_xip(?::pg_snapshot) x
                                    WHERE x < pg_snapshot_xmax(st.frontier) AND pg_visible_in_snapshot(x, st.frontier))
                   AND NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_source_events e
                                    WHERE NOT e.handled
                                      AND (e.source_relid IN (SELECT d.source_relid FROM pgtrickle.pgt_dependencies d
                                                               WHERE d.pgt_id = st.pgt_id)
                                           OR e.source_relid IN (SELECT f.function_oid
                                                                   FROM pgtrickle.pgt_function_dependencies f
                                                                  WHERE f.pgt_id = st.pgt_id)))
                   -- a query that reads the clock changes as time passes: it refreshes on its schedule
                   AND NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_refresh_clock k WHERE k.pgt_id = st.pgt_id)
                   AND NOT (%s)
                RETURNING st.pgt_id, pg_current_xact_id()::text""".formatted(changed);
        Set<Long> confirmed = new LinkedHashSet<>();
        String xid = null;
        try (PreparedStatement ps = tx.prepareStatement(sql)) {
            int i = 1;
            ps.setString(i++, snapshot);
            ps.setObject(i++, at);
            ps.setObject(i++, at);
            ps.setArray(i++, array(tx, confirmable));
            ps.setString(i++, snapshot);
            ps.setString(i++, snapshot);
            for (List<Long> ids : readers.values()) {
                ps.setArray(i++, array(tx, ids));
                ps.setString(i++, snapshot);
            }
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    confirmed.add(rs.getLong(1));
                    xid = rs.getString(2);
                }
            }
        }
        if (xid != null) {
            // It writes only the catalog: later barriers need not wait for it.
            capture.wroteNothingCaptured(Long.parseLong(xid));
        }
        return confirmed;
    }

    private static Array array(Connection tx, Collection<Long> ids) throws SQLException {
        return tx.createArrayOf("bigint", ids.toArray());
    }
}
