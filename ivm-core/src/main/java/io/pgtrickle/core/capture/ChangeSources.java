package io.pgtrickle.core.capture;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.query.SourceRelation;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Starts and stops capturing the changes of source relations: the change buffer, and either
 * publication membership with REPLICA IDENTITY FULL (WAL) or generated triggers (TRIGGER).
 *
 * <p>REPLICA IDENTITY FULL makes PostgreSQL log the whole old row of every UPDATE and DELETE, so
 * the buffer can hold the row that left (a delete's −1 needs every column, and keyless tables have
 * no other identity). It costs some WAL volume on updates and deletes of tracked tables. It is
 * left in place when tracking stops, since the engine cannot know what the owner had before.
 *
 * <p>A source's changes include those of its partitions and inheritance children (a query over it
 * reads them): capture covers every member of its tree, see {@link #reconcile}.
 */
public final class ChangeSources {
    private static final Logger log = LoggerFactory.getLogger(ChangeSources.class);
    public static final String PUBLICATION = "pgtrickle_pub";

    private final CdcMode mode;
    private final String slotName;

    /**
     * @param mode the resolved mode for newly tracked sources: WAL or TRIGGER
     * @param slotName the replication slot WAL capture reads
     */
    public ChangeSources(CdcMode mode, String slotName) {
        if (mode == CdcMode.AUTO) {
            throw new IllegalArgumentException("resolve AUTO to WAL or TRIGGER first");
        }
        this.mode = mode;
        this.slotName = slotName;
    }

    /**
     * Before tracking from the WAL: creates the replication slot if missing, so changes are
     * retained from then on. Runs outside any transaction (a slot cannot be created in a
     * transaction that has written), and only when tracking starts, so merely opening an engine
     * never leaves a slot holding WAL.
     */
    public void prepareTracking(Connection autocommit) throws SQLException {
        if (mode == CdcMode.WAL) {
            WalCapture.ensureSlot(autocommit, slotName);
        }
    }

    public CdcMode mode() {
        return mode;
    }

    /** Whether changes of this kind of relation can be captured. */
    public static boolean capturable(SourceRelation s) {
        return s.kind() == SourceRelation.Kind.TABLE || s.kind() == SourceRelation.Kind.STREAM_TABLE;
    }

    public List<ChangeSource> all(Connection c) throws SQLException {
        List<ChangeSource> sources = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT source_relid::bigint, source_schema, source_name,"
                + " cdc_mode, buffer_table FROM pgtrickle.pgt_change_sources ORDER BY source_relid");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                sources.add(new ChangeSource(rs.getLong(1), new QualifiedName(rs.getString(2), rs.getString(3)),
                        CdcMode.valueOf(rs.getString(4)), rs.getString(5)));
            }
        }
        return sources;
    }

    /** The tracked sources among {@code relids}. */
    public List<ChangeSource> of(Connection c, Collection<Long> relids) throws SQLException {
        Map<Long, ChangeSource> byRelid = all(c).stream().collect(Collectors.toMap(ChangeSource::relid, Function.identity()));
        return relids.stream().map(byRelid::get).filter(java.util.Objects::nonNull).toList();
    }

    /**
     * Starts tracking every capturable source not tracked yet, in the caller's transaction.
     * Returns whether anything new is tracked; then, after commit, call
     * {@link #awaitOlderTransactions} before taking the snapshot that populates a stream table.
     */
    public boolean track(Connection c, List<SourceRelation> sources) throws SQLException {
        List<Long> tracked = all(c).stream().map(ChangeSource::relid).toList();
        boolean added = false;
        for (SourceRelation s : sources) {
            if (!capturable(s) || tracked.contains(s.relid())) {
                continue;
            }
            String buffer = ChangeSource.bufferTableFor(s.relid());
            ChangeSource cs = new ChangeSource(s.relid(), s.name(), mode, buffer);
            Jdbc.executeRaw(c, "CREATE TABLE " + cs.buffer() + " (\n"
                    + "    xid xid8 NOT NULL,\n"
                    + "    seq bigint NOT NULL,\n"
                    + "    weight smallint NOT NULL,\n"
                    + "    row jsonb,\n"
                    + "    lsn pg_lsn,\n"
                    + "    captured_at timestamptz NOT NULL DEFAULT clock_timestamp(),\n"
                    // The writer of the buffer row (the source transaction, or the WAL ingester's):
                    // a refresh reads rows its snapshot sees in place, and copies only the others.
                    + "    ingest_xid xid8 DEFAULT pg_current_xact_id(),\n"
                    + "    PRIMARY KEY (xid, seq))");
            Jdbc.executeRaw(c, "COMMENT ON TABLE " + cs.buffer() + " IS " + literal("pg_trickle change buffer of "
                    + s.name() + ": +1/-1 row images; weight 0 marks a TRUNCATE"));
            Jdbc.update(c, "INSERT INTO pgtrickle.pgt_change_sources (source_relid, source_schema, source_name,"
                    + " cdc_mode, buffer_table, tracked_since, columns)"
                    + " VALUES (?::oid, ?, ?, ?, ?, pg_current_snapshot(), pgtrickle._columns_of(?::oid))",
                    s.relid(), s.name().schema(), s.name().name(), mode.name(), buffer, s.relid());
            log.info("tracking changes of {} ({} capture) into {}", s.name(), mode, cs.buffer());
            added = true;
        }
        if (added) {
            reconcile(c);
            warnWithoutEventTrigger(c, sources);
        }
        return added;
    }

    /**
     * Without the event trigger, table DDL does not adjust capture; the engine's housekeeping
     * pass does, a moment later. Says what that means for a source with partitions or children.
     */
    private static void warnWithoutEventTrigger(Connection c, List<SourceRelation> sources) throws SQLException {
        if (reconciledByEventTrigger(c)) {
            return;
        }
        for (SourceRelation s : sources) {
            if (Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class, "SELECT relkind = 'p' OR EXISTS (SELECT 1 FROM"
                    + " pg_inherits WHERE inhparent = c.oid) FROM pg_class c WHERE c.oid = ?::oid", s.relid()))) {
                log.warn("{} has partitions or inheritance children, and the catalog was installed without a superuser,"
                        + " so no event trigger adjusts capture when partitions or children are created, attached or"
                        + " detached: the running engine does so on its next housekeeping pass and refills the stream"
                        + " tables reading {}; until then, with WAL capture, UPDATE and DELETE on a new partition or child"
                        + " fail unless it was created with REPLICA IDENTITY FULL. Run SELECT pgtrickle._reconcile_capture()"
                        + " right after such DDL, or have a superuser install the catalog, to adjust at once",
                        s.name(), s.name());
            }
        }
    }

    /**
     * Brings the capture of every tracked source in line with its tree of partitions and
     * inheritance children (V7__source_hierarchies.sql): replica identity and publication
     * membership of each member (WAL), or the capture triggers on each member and on the
     * partitioned ancestors of a partition (TRIGGER); a source whose members changed gets a
     * marker that refills its readers. The event trigger does the same inside each table DDL.
     */
    public static void reconcile(Connection c) throws SQLException {
        Jdbc.call(c, "SELECT pgtrickle._reconcile_capture()");
    }

    /** Whether table DDL reconciles capture itself (its event trigger needs a superuser to exist). */
    public static boolean reconciledByEventTrigger(Connection c) throws SQLException {
        return Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class,
                "SELECT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'pgtrickle_table_ddl' AND evtenabled <> 'D')"));
    }

    /** Forgets a source whose table was dropped: its buffer goes too. */
    public void forgetDropped(Connection c, long relid) throws SQLException {
        for (ChangeSource cs : all(c)) {
            if (cs.relid() == relid) {
                // CASCADE: the function's triggers on the members that outlive the source go with it.
                Jdbc.executeRaw(c, "DROP FUNCTION IF EXISTS pgtrickle_changes." + Identifiers.quote(functionName(cs)) + "() CASCADE");
                Jdbc.executeRaw(c, "DROP TABLE IF EXISTS " + cs.buffer());
                Jdbc.update(c, "DELETE FROM pgtrickle.pgt_change_sources WHERE source_relid = ?::oid", relid);
                log.info("source {} was dropped; its change buffer is gone", cs.name());
            }
        }
    }

    /** Stops tracking sources that no stream table reads any more, in the caller's transaction. */
    public void untrackUnused(Connection c) throws SQLException {
        for (ChangeSource cs : all(c)) {
            Boolean used = Jdbc.queryValue(c, Boolean.class,
                    "SELECT EXISTS (SELECT 1 FROM pgtrickle.pgt_dependencies WHERE source_relid = ?::oid)", cs.relid());
            if (Boolean.TRUE.equals(used)) {
                continue;
            }
            // CASCADE: its triggers on every member of the source's tree (and on partitioned ancestors).
            Jdbc.executeRaw(c, "DROP FUNCTION IF EXISTS pgtrickle_changes." + Identifiers.quote(functionName(cs)) + "() CASCADE");
            Jdbc.executeRaw(c, "DROP TABLE IF EXISTS " + cs.buffer());
            Jdbc.update(c, "DELETE FROM pgtrickle.pgt_change_sources WHERE source_relid = ?::oid", cs.relid());
            if (cs.mode() == CdcMode.WAL) {
                unpublishUnneeded(c);
            }
            log.info("stopped tracking changes of {}", cs.name());
        }
    }

    /**
     * Removes from the publication each table no WAL-tracked source reads any more (itself, or as a
     * partition or child). One by one ({@code ONLY}): a child may still be tracked for itself.
     */
    private static void unpublishUnneeded(Connection c) throws SQLException {
        List<String> unneeded = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT pr.prrelid::regclass::text FROM pg_publication_rel pr"
                + " JOIN pg_publication p ON p.oid = pr.prpubid WHERE p.pubname = ? AND NOT EXISTS (SELECT 1"
                + "   FROM pgtrickle.pgt_change_sources s, pgtrickle._tree_of(s.source_relid) t"
                + "   WHERE s.cdc_mode = 'WAL' AND t.member = pr.prrelid)")) {
            ps.setString(1, PUBLICATION);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    unneeded.add(rs.getString(1));
                }
            }
        }
        for (String table : unneeded) {
            // regclass text is quoted and qualified as needed.
            Jdbc.executeRaw(c, "ALTER PUBLICATION " + PUBLICATION + " DROP TABLE ONLY " + table);
        }
    }

    /**
     * Waits until every transaction that was running when tracking started has ended. A
     * transaction that wrote a source before its capture began is then visible to the next
     * snapshot taken, so it lands in a stream table's initial contents and never in a change
     * window it was not captured for.
     *
     * <p>The horizon is an xid assigned now, not a snapshot's {@code xmax}: {@code xmax} is one past
     * the latest <em>completed</em> xid, and a transaction with a higher xid can already be running
     * (xids are assigned before they complete, in any order of completion). Every transaction that
     * held an xid when tracking committed has one below a freshly assigned xid, so "the oldest
     * running xid is at or above the horizon" means they have all ended.
     *
     * @param c a connection in autocommit mode (the horizon's transaction must end at once)
     */
    public static void awaitOlderTransactions(Connection c, Duration timeout) throws SQLException {
        if (!c.getAutoCommit()) {
            throw new IllegalStateException("awaitOlderTransactions needs an autocommit connection");
        }
        String horizon = Jdbc.queryValue(c, String.class, "SELECT pg_current_xact_id()::text");
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class,
                "SELECT pg_snapshot_xmin(pg_current_snapshot()) >= ?::xid8", horizon))) {
            if (System.nanoTime() > deadline) {
                throw new PgTrickleException(ErrorCode.INVALID_ARGUMENT, "change capture could not start: "
                        + "transactions open since before tracking began are still running after "
                        + timeout.toSeconds() + "s (" + olderTransactions(c, horizon) + "); commit or end them and retry");
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new PgTrickleException(ErrorCode.INTERNAL, "interrupted while waiting for older transactions");
            }
        }
    }

    private static String olderTransactions(Connection c, String horizon) throws SQLException {
        List<String> found = new ArrayList<>();
        try (PreparedStatement ps = Jdbc.prepare(c, "SELECT pid, backend_xid::text, xact_start FROM pg_stat_activity"
                + " WHERE pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
                // age() compares 32-bit xids correctly across wraparound: older means greater age.
                + " AND age(backend_xid) > age((?::xid8::text::numeric % 4294967296)::text::xid)", horizon);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                found.add("pid " + rs.getInt(1) + ", xid " + rs.getString(2) + ", open since " + rs.getObject(3));
            }
        }
        return found.isEmpty() ? "none found" : String.join("; ", found);
    }

    private static String functionName(ChangeSource cs) {
        return "capture_" + cs.relid();
    }

    private static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }
}
