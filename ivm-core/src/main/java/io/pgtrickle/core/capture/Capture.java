package io.pgtrickle.core.capture;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.SqlCheck;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Change capture for one database: which sources are tracked and how, the WAL stream when it is
 * used, and the two services every refresh needs from it: "everything committed before this WAL
 * position is buffered" and "the window of changes between two snapshots".
 */
public final class Capture implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Capture.class);
    /** With the event trigger, how often a housekeeping pass still reconciles, as a backstop. */
    private static final long BACKSTOP_RECONCILE_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final EngineConfig config;
    private final DataSource dataSource;
    private final ChangeSources sources;
    private final BufferMaintenance bufferMaintenance;
    /** Whether WAL row images lack stored generated columns (pgoutput before PostgreSQL 18). */
    private final boolean walLacksGeneratedColumns;
    private WalCapture wal;
    private final BufferedHorizon horizon = new BufferedHorizon();
    /** Write transactions the ingester of this process has attempted: see {@link #ingestTransactions}. */
    private final java.util.concurrent.atomic.AtomicLong ingestTransactions = new java.util.concurrent.atomic.AtomicLong();
    private volatile CaptureObserver observer = CaptureObserver.NONE;
    private long lastReconcile = System.nanoTime();

    private Capture(EngineConfig config, DataSource dataSource, CdcMode mode, boolean walLacksGeneratedColumns) {
        this.config = config;
        this.dataSource = dataSource;
        this.walLacksGeneratedColumns = walLacksGeneratedColumns;
        this.sources = new ChangeSources(mode, config.slotName());
        this.bufferMaintenance = new BufferMaintenance(dataSource, BufferMaintenance.Policy.DEFAULT);
    }

    /** Resolves AUTO against the server and prepares the publication when WAL capture is used. */
    public static Capture open(EngineConfig config, DataSource dataSource) throws SQLException {
        CdcMode mode = config.cdcMode();
        boolean walLacksGeneratedColumns;
        try (Connection c = dataSource.getConnection()) {
            if (mode == CdcMode.AUTO) {
                boolean logical = "logical".equals(Jdbc.queryValue(c, String.class, "SELECT current_setting('wal_level')"));
                boolean replication = Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class,
                        "SELECT rolreplication OR rolsuper FROM pg_roles WHERE rolname = current_user"));
                mode = logical && replication ? CdcMode.WAL : CdcMode.TRIGGER;
                log.info("cdc mode auto: {} (wal_level {}, replication privilege {})", mode,
                        logical ? "logical" : "not logical", replication ? "yes" : "no");
            }
            if (mode == CdcMode.WAL) {
                Jdbc.executeRaw(c, "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_publication WHERE pubname = '"
                        + ChangeSources.PUBLICATION + "') THEN CREATE PUBLICATION " + ChangeSources.PUBLICATION
                        + "; END IF; END $$");
                publishGeneratedColumns(c);
                publishPartitionsUnderTheirOwnNames(c);
                Jdbc.update(c, "UPDATE pgtrickle.pgt_capture_state SET slot_name = ?", config.slotName());
            }
            // Also in a trigger-mode engine: another engine may have tracked sources from the WAL.
            walLacksGeneratedColumns = !canPublishGeneratedColumns(c);
            // Partitions or children created while no engine (or no event trigger) watched.
            ChangeSources.reconcile(c);
        }
        return new Capture(config, dataSource, mode, walLacksGeneratedColumns);
    }

    /**
     * With {@code publish_via_partition_root} a partition's changes would be published as its root's
     * only, and a stream table reading the partition itself would miss them; without it each event
     * names its leaf partition and the ingester routes it to every tracked ancestor as well.
     */
    private static void publishPartitionsUnderTheirOwnNames(Connection c) throws SQLException {
        if (Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class, "SELECT pubviaroot FROM pg_publication WHERE pubname = ?",
                ChangeSources.PUBLICATION))) {
            Jdbc.executeRaw(c, "ALTER PUBLICATION " + ChangeSources.PUBLICATION + " SET (publish_via_partition_root = false)");
        }
    }

    /**
     * PostgreSQL 18 refuses every UPDATE and DELETE of a table whose replica identity (FULL, as
     * capture sets it) contains a stored generated column the publication does not publish; so the
     * engine's publication publishes them (their values are part of the row images anyway).
     * Before 18 the option does not exist and the values are recomputed instead ({@link GeneratedColumns}).
     */
    private static void publishGeneratedColumns(Connection c) throws SQLException {
        if (canPublishGeneratedColumns(c) && !"s".equals(Jdbc.queryValue(c, String.class, "SELECT pubgencols::text"
                + " FROM pg_publication WHERE pubname = ?", ChangeSources.PUBLICATION))) {
            Jdbc.executeRaw(c, "ALTER PUBLICATION " + ChangeSources.PUBLICATION + " SET (publish_generated_columns = stored)");
        }
    }

    /** Whether publications can publish stored generated columns (PostgreSQL 18). */
    private static boolean canPublishGeneratedColumns(Connection c) throws SQLException {
        return Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class, "SELECT EXISTS (SELECT 1 FROM pg_attribute"
                + " WHERE attrelid = 'pg_catalog.pg_publication'::regclass AND attname = 'pubgencols')"));
    }

    public CdcMode mode() {
        return sources.mode();
    }

    public ChangeSources sources() {
        return sources;
    }

    /** Keeps the change buffers small; the running engine calls it on every housekeeping tick. */
    public BufferMaintenance bufferMaintenance() {
        return bufferMaintenance;
    }

    /**
     * Starts the WAL stream now rather than at the first refresh that needs it; only when the
     * slot exists, i.e. once a source has been tracked from the WAL.
     */
    public synchronized void start() {
        reconcileOnHousekeeping();
        if (mode() == CdcMode.WAL && wal == null && slotExists()) {
            wal = WalCapture.start(config, dataSource, this::notifyObserver, horizon::harmless, ingestTransactions);
        }
    }

    /**
     * Shows every change WAL capture delivers to {@code observer} (one at a time; replaces the
     * previous one). For audits: see {@link CaptureObserver}.
     */
    public void observe(CaptureObserver observer) {
        this.observer = observer == null ? CaptureObserver.NONE : observer;
    }

    private void notifyObserver(java.util.List<CaptureObserver.Delivered> changes) {
        try {
            observer.delivered(changes);
        } catch (RuntimeException e) {
            log.warn("capture observer failed: {}", e.toString());
        }
    }

    /**
     * Without the event trigger (no superuser installed the catalog), table DDL does not adjust
     * capture: this pass, on every housekeeping tick, does; a source whose partitions or children
     * changed meanwhile is refilled at its next refresh (the pass leaves a marker). Until it runs,
     * UPDATE and DELETE of a partition created meanwhile fail under WAL capture unless the
     * partition was created with REPLICA IDENTITY FULL. With the event trigger, a pass now and
     * then catches the DDL whose trigger stood back (another pass held the lock, or it failed).
     */
    private void reconcileOnHousekeeping() {
        long now = System.nanoTime();
        try (Connection c = dataSource.getConnection()) {
            if (!ChangeSources.reconciledByEventTrigger(c) || now - lastReconcile > BACKSTOP_RECONCILE_NANOS) {
                lastReconcile = now;
                ChangeSources.reconcile(c);
            }
        } catch (SQLException e) {
            log.warn("could not adjust change capture to new partitions or children: {}", e.getMessage());
        }
    }

    /** Whether another process streams the slot (a running engine): then wait on its progress. */
    private boolean slotActiveElsewhere() {
        try (Connection c = dataSource.getConnection()) {
            return Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class,
                    "SELECT active FROM pg_replication_slots WHERE slot_name = ?", config.slotName()));
        } catch (SQLException e) {
            return false;
        }
    }

    private boolean slotExists() {
        try (Connection c = dataSource.getConnection()) {
            return Jdbc.queryValue(c, String.class, "SELECT slot_name::text FROM pg_replication_slots WHERE slot_name = ?",
                    config.slotName()) != null;
        } catch (SQLException e) {
            return false;
        }
    }

    /**
     * Blocks until every transaction visible in {@code snapshot} is in the buffers of
     * {@code involved}; immediate when none of them is captured from the WAL, or when a previous
     * barrier already covers the snapshot ({@link BufferedHorizon}). {@code snapshot} and
     * {@code walLsn} must come from one statement, the first of the caller's transaction {@code tx}.
     */
    public void awaitBuffered(Connection tx, List<ChangeSource> involved, String snapshot, String walLsn)
            throws SQLException {
        awaitBuffered(tx, involved, snapshot, walLsn, null);
    }

    /**
     * The check {@link #awaitBuffered} makes first, whether a previous barrier covers {@code snapshot},
     * for a caller to evaluate with others in one statement and hand back as {@code covered};
     * {@code null} when there is nothing to ask (no WAL source, or the answer is no).
     */
    public SqlCheck coverage(Connection tx, List<ChangeSource> involved, String snapshot) throws SQLException {
        return involved.stream().noneMatch(s -> s.mode() == CdcMode.WAL) ? null : horizon.check(tx, snapshot);
    }

    /**
     * As {@link #awaitBuffered(Connection, List, String, String)}, with the answer of
     * {@link #coverage} already known ({@code covered}; {@code null}: ask).
     */
    public void awaitBuffered(Connection tx, List<ChangeSource> involved, String snapshot, String walLsn, Boolean covered)
            throws SQLException {
        if (involved.stream().noneMatch(s -> s.mode() == CdcMode.WAL)) {
            return;
        }
        if (covered != null ? covered : horizon.covers(tx, snapshot)) {
            log.debug("capture barrier not needed: snapshot {} is covered by the last one", snapshot);
            return;
        }
        awaitBuffered(involved, walLsn);
        horizon.confirm(snapshot);
    }

    /**
     * Records that transaction {@code xid8} of this process wrote nothing capture reads (no row of
     * a source), so that later barriers need not wait for it. Only for transactions that commit
     * without touching any table in the publication.
     */
    public void wroteNothingCaptured(long xid8) {
        horizon.harmless(xid8);
    }

    /**
     * Blocks until every transaction that committed before {@code walLsn} is in the buffers of
     * {@code involved}; immediate when none of them is captured from the WAL.
     */
    public void awaitBuffered(List<ChangeSource> involved, String walLsn) {
        if (involved.stream().noneMatch(s -> s.mode() == CdcMode.WAL)) {
            return;
        }
        while (true) {
            WalCapture stream;
            synchronized (this) {
                if (wal == null && slotActiveElsewhere()) {
                    stream = null;
                } else {
                    // Also in a trigger-mode engine: another engine may have tracked these sources from the WAL.
                    if (wal == null) {
                        wal = WalCapture.start(config, dataSource, this::notifyObserver, horizon::harmless, ingestTransactions);
                    }
                    stream = wal;
                }
            }
            if (stream != null) {
                stream.awaitPast(walLsn, config.captureTimeout());
                return;
            }
            if (WalCapture.awaitPastRemote(dataSource, config.slotName(), walLsn, config.captureTimeout(),
                    horizon::harmless)) {
                // Another process's ingester wrote what this barrier waited for, unseen by the count:
                // a refresh that counted before it (and streams itself by now) must copy late rows.
                ingestTransactions.incrementAndGet();
                return;
            }
            log.info("the engine streaming slot {} stopped; this engine streams it now", config.slotName());
        }
    }

    /**
     * How many write transactions the WAL ingester of this process has attempted so far, counted
     * after each attempt ends (committed or not); {@code -1} when this process streams no WAL (a
     * running engine may, and its commits cannot be seen from here).
     *
     * <p>A refresh reads it before its first statement (c0) and after its capture barrier (c1). The
     * ingester writes every change of a transaction visible in the snapshot before it sees a
     * marker emitted after the snapshot, and one batch after the other; so if it committed any such
     * row after the snapshot, it counted that attempt before the barrier ended, and c1 differs
     * from c0. Equal counts (neither {@code -1}) prove that no buffer row of the window was written
     * after the snapshot: the window is what the refresh transaction sees in place. The same holds
     * when the barrier was skipped ({@link BufferedHorizon}): the barrier that covers the snapshot
     * ended before c1, and with it every count of the commits it waited for.
     */
    public long ingestTransactions() {
        synchronized (this) {
            return wal == null ? -1 : ingestTransactions.get();
        }
    }

    /**
     * The change window between {@code previousFrontier} and {@code snapshot}: see
     * {@link ChangeWindow#load}; {@code lateRowsPossible} false when {@link #ingestTransactions}
     * proved that the ingester wrote no row after the snapshot.
     */
    public ChangeWindow window(Connection tx, List<ChangeSource> involved, String snapshot, String previousFrontier,
                               ChangeWindow.InPlace inPlace, boolean lateRowsPossible) throws SQLException {
        return ChangeWindow.load(tx, dataSource, involved, snapshot, previousFrontier, inPlace, lateRowsPossible,
                walLacksGeneratedColumns);
    }

    /** Deletes buffered changes that every stream table reading the source has consumed. */
    public void cleanup(Connection tx, List<ChangeSource> involved) throws SQLException {
        for (ChangeSource s : involved) {
            Jdbc.executeRaw(tx, cleanupStatement(s));
        }
    }

    /**
     * {@link #cleanupSql} as a statement that cannot fail the refresh: two stream tables reading
     * one source, refreshed at once, may both find the same rows consumed by every reader, and the
     * second to delete them (REPEATABLE READ) would fail to serialize. Its delete is then undone
     * alone; the rows are gone already, or the next refresh deletes them.
     */
    public static String cleanupStatement(ChangeSource s) {
        String delete = cleanupSql(s).replace("?::oid", s.relid() + "::oid");
        return "DO $pgt_clean$ BEGIN " + delete + "; EXCEPTION WHEN serialization_failure THEN NULL; END $pgt_clean$";
    }

    /**
     * The statement {@link #cleanup} runs for source {@code s}; two parameters, both the source's
     * relid (for a caller that sends it together with other statements).
     */
    public static String cleanupSql(ChangeSource s) {
        // The xid bound follows from the condition (a row every frontier sees is below each
        // frontier's xmax): the buffer's key skips the rows the slowest reader still needs,
        // instead of testing each of them against every frontier.
        return "DELETE FROM " + s.buffer() + " b WHERE b.xid < coalesce((SELECT min(pg_snapshot_xmax(st.frontier))"
                + " FROM pgtrickle.pgt_dependencies d JOIN pgtrickle.pgt_stream_tables st USING (pgt_id)"
                + " WHERE d.source_relid = ?::oid), '18446744073709551615'::xid8) AND " + consumedByEveryReader("b");
    }

    /**
     * SQL that holds for a buffer row (alias {@code row}) once every stream table reading the
     * source has a frontier that includes its transaction; one parameter, the source's relid. A
     * frontier only moves forward, so such a row is outside every window from then on.
     */
    static String consumedByEveryReader(String row) {
        return "NOT EXISTS (SELECT 1 FROM pgtrickle.pgt_dependencies d JOIN pgtrickle.pgt_stream_tables st USING (pgt_id)"
                + " WHERE d.source_relid = ?::oid"
                + " AND (st.frontier IS NULL OR NOT pg_visible_in_snapshot(" + row + ".xid, st.frontier)))";
    }

    @Override
    public synchronized void close() {
        if (wal != null) {
            wal.close();
            wal = null;
        }
    }
}
