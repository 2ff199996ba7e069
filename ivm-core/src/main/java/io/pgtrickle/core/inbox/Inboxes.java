package io.pgtrickle.core.inbox;

import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.error.SqlErrors;
import io.pgtrickle.core.lifecycle.RefreshMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.query.SqlText;
import io.pgtrickle.core.schedule.Schedule;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Inboxes (docs/outbox-inbox.md, "Inboxes"): a thin layer over the SQL functions of {@code V17__inbox.sql}. Creating,
 * dropping and ordering also create or drop the inbox's stream tables, which this class does at once
 * through {@link StreamTables}; the SQL functions instead register an {@code INBOX} request that the
 * running engine carries out with {@link #reconcile}. Every method names the inbox by {@code name}
 * or {@code schema.name}.
 */
public final class Inboxes {
    private static final Logger log = LoggerFactory.getLogger(Inboxes.class);
    /** SQLSTATE undefined_object: the catalog has no such inbox. */
    private static final String NO_SUCH_INBOX = "42704";

    private final DataSource dataSource;
    private final StreamTables streamTables;
    private final InboxRetention retention;

    public Inboxes(DataSource dataSource, StreamTables streamTables) {
        this.dataSource = dataSource;
        this.streamTables = streamTables;
        this.retention = new InboxRetention(dataSource, InboxRetention.DEFAULT_INTERVAL);
    }

    /** The engine's periodic deletion of processed events past their inbox's retention. */
    public InboxRetention retention() {
        return retention;
    }

    /**
     * Creates the inbox's table and its stream tables, populated; returns its status. If a stream
     * table cannot be created, the inbox is dropped again and the error raised.
     */
    public InboxStatus create(InboxSpec spec) {
        String context = "cannot create inbox " + spec.name();
        String table = call(context, c -> Jdbc.queryValue(c, String.class,
                "SELECT pgtrickle._create_inbox_table(?, ?, ?, ?, ?, ?, ?)", spec.name(), spec.schema(),
                spec.maxRetries(), spec.withDeadLetter(), spec.withStats(), spec.retentionHours(), spec.schedule()));
        try {
            reconcile(table, null);
        } catch (RuntimeException e) {
            try {
                drop(table, true);
            } catch (RuntimeException undo) {
                e.addSuppressed(undo);
            }
            throw e;
        }
        log.info("created inbox {}", table);
        return status(table);
    }

    /**
     * Drops the inbox: its stream tables, its table with every event in it, and its catalog row.
     *
     * @return false when {@code ifExists} and there was no such inbox
     * @throws PgTrickleException {@code HAS_DEPENDANTS} when other stream tables read the inbox or
     *     one of its stream tables
     */
    public boolean drop(String name, boolean ifExists) {
        String table = call("cannot drop inbox " + name, c -> Jdbc.queryValue(c, String.class,
                "SELECT pgtrickle._mark_inbox_dropping(?, ?)", name, ifExists));
        if (table == null) {
            return false;
        }
        reconcile(table, null);
        log.info("dropped inbox {}", table);
        return true;
    }

    /**
     * Keeps per-aggregate order: creates {@code <name>_next} (the pending event with the lowest
     * sequence of each aggregate) and {@code <name>_gaps} (aggregates whose next pending sequence is
     * not the last processed one + 1).
     *
     * @param aggregateIdColumn the column naming the aggregate, usually {@code aggregate_id}
     * @param sequenceColumn an integer column numbering the events of one aggregate
     */
    public void enableOrdering(String name, String aggregateIdColumn, String sequenceColumn) {
        String table = call("cannot enable ordering of inbox " + name, c -> Jdbc.queryValue(c, String.class,
                "SELECT pgtrickle._set_inbox_ordering(?, ?, ?)", name, aggregateIdColumn, sequenceColumn));
        reconcile(table, null);
    }

    /** Drops {@code <name>_next} and {@code <name>_gaps}; false when {@code ifExists} and there was no ordering. */
    public boolean disableOrdering(String name, boolean ifExists) {
        String table = call("cannot disable ordering of inbox " + name, c -> Jdbc.queryValue(c, String.class,
                "SELECT pgtrickle._clear_inbox_ordering(?, ?)", name, ifExists));
        if (table == null) {
            return false;
        }
        reconcile(table, null);
        return true;
    }

    /**
     * Delivers events that cannot be processed (a message that is not JSON, one without an event
     * id) straight into the dead-letter state: {@code retry_count} at the inbox's
     * {@code max_retries} and {@code last_error} = the reason, so {@code <name>_dlq} shows them and
     * {@code replay_inbox_messages} can give them another chance. In the caller's transaction; a
     * repeated event_id is skipped as by {@link #insert(Connection, String, List)}.
     *
     * @param reasons the reason of each event, by position in {@code events}
     * @return how many were new
     */
    public static int insertDeadLetters(Connection c, String name, List<InboxEvent> events, List<String> reasons)
            throws SQLException {
        if (events.size() != reasons.size()) {
            throw new IllegalArgumentException("one reason per event: " + events.size() + " events, " + reasons.size()
                    + " reasons");
        }
        if (events.isEmpty()) {
            return 0;
        }
        String table = Jdbc.queryValue(c, String.class, "SELECT pgtrickle._inbox_table(pgtrickle._inbox(?))", name);
        int inserted = 0;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
                + " (event_id, event_type, source, aggregate_id, payload, headers, retry_count, last_error)"
                + " SELECT ?, ?, ?, ?, ?::jsonb, coalesce(?::jsonb, '{}'), b.max_retries, ?"
                + " FROM pgtrickle.pgt_inboxes b WHERE b.inbox_name = (pgtrickle._inbox(?)).inbox_name"
                + " ON CONFLICT (event_id) DO NOTHING")) {
            for (int i = 0; i < events.size(); i++) {
                InboxEvent e = events.get(i);
                ps.setString(1, e.eventId());
                ps.setString(2, e.eventType());
                ps.setString(3, e.source());
                ps.setString(4, e.aggregateId());
                ps.setString(5, e.payload());
                ps.setString(6, e.headers());
                ps.setString(7, reasons.get(i));
                ps.setString(8, name);
                ps.addBatch();
            }
            for (int n : ps.executeBatch()) {
                inserted += Math.max(n, 0);
            }
        }
        return inserted;
    }

    /** Delivers events; returns how many were new (an event_id the inbox holds is skipped). */
    public int insert(String name, List<InboxEvent> events) {
        return call("cannot insert into inbox " + name, c -> insert(c, name, events));
    }

    /**
     * Delivers events in the caller's transaction (a connector commits its source offsets with
     * them), with {@code INSERT ... ON CONFLICT (event_id) DO NOTHING}: a repeated event_id is
     * skipped, also when another transaction inserts it at the same moment (it waits for that one).
     * The events go in event_id order, so two writers delivering overlapping batches wait for each
     * other instead of deadlocking.
     *
     * @return how many events were new
     */
    public static int insert(Connection c, String name, List<InboxEvent> events) throws SQLException {
        if (events.isEmpty()) {
            return 0;
        }
        String table = Jdbc.queryValue(c, String.class, "SELECT pgtrickle._inbox_table(pgtrickle._inbox(?))", name);
        int inserted = 0;
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table
                + " (event_id, event_type, source, aggregate_id, payload, headers)"
                + " VALUES (?, ?, ?, ?, ?::jsonb, coalesce(?::jsonb, '{}')) ON CONFLICT (event_id) DO NOTHING")) {
            List<InboxEvent> ordered = new ArrayList<>(events);
            ordered.sort(Comparator.comparing(InboxEvent::eventId, Comparator.nullsFirst(Comparator.naturalOrder())));
            for (InboxEvent e : ordered) {
                ps.setString(1, e.eventId());
                ps.setString(2, e.eventType());
                ps.setString(3, e.source());
                ps.setString(4, e.aggregateId());
                ps.setString(5, e.payload());
                ps.setString(6, e.headers());
                ps.addBatch();
            }
            for (int n : ps.executeBatch()) {
                inserted += Math.max(n, 0);
            }
        }
        return inserted;
    }

    /** Marks an event processed; false when it was processed already (its first time stays). */
    public boolean markProcessed(String name, String eventId) {
        return call("cannot mark event " + eventId + " of inbox " + name + " processed", c -> Boolean.TRUE.equals(
                Jdbc.queryValue(c, Boolean.class, "SELECT pgtrickle.inbox_mark_processed(?, ?)", name, eventId)));
    }

    /** Records a failed attempt; at {@code max_retries} the event is dead-lettered. */
    public FailedAttempt markFailed(String name, String eventId, String error) {
        return call("cannot mark event " + eventId + " of inbox " + name + " failed", c -> {
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT retry_count, dead_lettered"
                    + " FROM pgtrickle.inbox_mark_failed(?, ?, ?)", name, eventId, error);
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new FailedAttempt(rs.getInt(1), rs.getBoolean(2));
            }
        });
    }

    /**
     * Makes processed or failed events pending again; returns how many changed (ids the inbox does
     * not hold, or holds pending already, count 0).
     */
    public int replay(String name, Collection<String> eventIds) {
        return call("cannot replay events of inbox " + name, c -> {
            Array ids = c.createArrayOf("text", eventIds.toArray());
            return Jdbc.queryValue(c, Integer.class, "SELECT pgtrickle.replay_inbox_messages(?, ?)", name, ids);
        });
    }

    public InboxStatus status(String name) {
        return call("cannot read the status of inbox " + name, c -> {
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT * FROM pgtrickle.inbox_status(?)", name);
                 ResultSet rs = ps.executeQuery()) {
                rs.next();
                return new InboxStatus(rs.getString("inbox"), rs.getString("table_name"), rs.getString("state"),
                        rs.getInt("max_retries"), rs.getBoolean("with_dead_letter"), rs.getBoolean("with_stats"),
                        rs.getInt("retention_hours"), rs.getString("schedule"), rs.getString("aggregate_id_col"),
                        rs.getString("sequence_col"), rs.getObject("total", Long.class),
                        rs.getObject("pending", Long.class), rs.getObject("failed", Long.class),
                        rs.getObject("dead_lettered", Long.class), rs.getObject("processed", Long.class),
                        rs.getObject("oldest_pending_at", OffsetDateTime.class), strings(rs.getArray("stream_tables")),
                        strings(rs.getArray("missing_stream_tables")),
                        rs.getObject("retention_run_at", OffsetDateTime.class), rs.getLong("rows_expired"));
            }
        });
    }

    /** The names of every inbox. */
    public List<String> list() {
        return call("cannot list the inboxes", c -> {
            List<String> names = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT inbox_name FROM pgtrickle.pgt_inboxes ORDER BY 1");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
            return names;
        });
    }

    private record Settings(String name, String state, String schedule) {
    }

    private record Definition(String kind, QualifiedName streamTable, String query) {
    }

    /**
     * Brings the inbox's stream tables in line with its catalog row: drops those it no longer wants
     * (or whose definition changed), creates the missing ones, and when the inbox is being dropped,
     * drops them all, then its table and its row. Idempotent, so an interrupted request can be
     * carried out again; a stream table an earlier attempt created but did not record is adopted
     * when its query is the wanted one. The engine's request processor calls this for {@code INBOX}
     * requests.
     *
     * @param requester the role that asked (it is granted SELECT on new stream tables), or
     *     {@code null} for the engine's own role
     */
    public synchronized void reconcile(String name, String requester) {
        String context = "cannot bring inbox " + name + " up to date";
        Optional<Settings> settings = call(context, c -> settings(c, name));
        if (settings.isEmpty()) {
            log.info("inbox {} is gone already", name);
            return;
        }
        Settings s = settings.get();
        boolean dropping = "DROPPING".equals(s.state());
        Map<String, Definition> wanted = dropping ? Map.of() : call(context, c -> definitions(c, s.name()));
        Map<String, StreamTableRecord> owned = owned(context, s.name());
        for (Map.Entry<String, StreamTableRecord> o : owned.entrySet()) {
            Definition w = wanted.get(o.getKey());
            if (w == null || !sameQuery(o.getValue(), w)) {
                streamTables.drop(o.getValue().name(), false);
                log.info("dropped stream table {} of inbox {}", o.getValue().name(), s.name());
            }
        }
        for (Definition w : wanted.values()) {
            StreamTableRecord mine = owned.get(w.kind());
            if (mine != null && sameQuery(mine, w)) {
                continue;
            }
            Optional<StreamTableRecord> existing = streamTables.find(w.streamTable());
            StreamTableRecord st;
            if (existing.isPresent() && sameQuery(existing.get(), w)) {
                st = existing.get();
            } else if (existing.isPresent()) {
                throw new PgTrickleException(ErrorCode.NAME_TAKEN, context + ": stream table " + w.streamTable()
                        + " exists and is not the inbox's " + w.kind() + " stream table; drop it, or drop the inbox"
                        + " and create it under another name");
            } else {
                st = streamTables.create(new StreamTableSpec(w.streamTable(), w.query(), Schedule.parse(s.schedule()),
                        RefreshMode.DIFFERENTIAL), requester);
            }
            call(context, c -> Jdbc.update(c, "INSERT INTO pgtrickle.pgt_inbox_stream_tables (inbox_name, kind, pgt_id)"
                    + " VALUES (?, ?, ?) ON CONFLICT (inbox_name, kind) DO UPDATE SET pgt_id = EXCLUDED.pgt_id",
                    s.name(), w.kind(), st.id()));
        }
        if (dropping) {
            call(context, c -> {
                Jdbc.call(c, "SELECT pgtrickle._drop_inbox_table(?)", name);
                return null;
            });
        }
    }

    private static boolean sameQuery(StreamTableRecord st, Definition w) {
        return st.query().equals(SqlText.requireSingleStatement(w.query()));
    }

    private static Optional<Settings> settings(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = Jdbc.prepare(c, "SELECT i.inbox_name, i.state, i.schedule FROM pgtrickle._inbox(?) i",
                name); ResultSet rs = ps.executeQuery()) {
            rs.next();
            return Optional.of(new Settings(rs.getString(1), rs.getString(2), rs.getString(3)));
        } catch (SQLException e) {
            if (NO_SUCH_INBOX.equals(e.getSQLState())) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private static Map<String, Definition> definitions(Connection c, String name) throws SQLException {
        Map<String, Definition> wanted = new LinkedHashMap<>();
        try (PreparedStatement ps = Jdbc.prepare(c, "SELECT kind, stream_table, query"
                + " FROM pgtrickle._inbox_stream_tables(?)", name); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                wanted.put(rs.getString(1), new Definition(rs.getString(1), QualifiedName.parse(rs.getString(2)),
                        rs.getString(3)));
            }
        }
        return wanted;
    }

    /** The inbox's stream tables by kind, as recorded when the engine made them. */
    private Map<String, StreamTableRecord> owned(String context, String name) {
        Map<String, QualifiedName> names = call(context, c -> {
            Map<String, QualifiedName> found = new LinkedHashMap<>();
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT o.kind, s.pgt_schema, s.pgt_name"
                    + " FROM pgtrickle.pgt_inbox_stream_tables o JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)"
                    + " WHERE o.inbox_name = ? ORDER BY o.kind", name); ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    found.put(rs.getString(1), new QualifiedName(rs.getString(2), rs.getString(3)));
                }
            }
            return found;
        });
        Map<String, StreamTableRecord> owned = new LinkedHashMap<>();
        names.forEach((kind, st) -> streamTables.find(st).ifPresent(r -> owned.put(kind, r)));
        return owned;
    }

    private static List<String> strings(Array array) throws SQLException {
        return array == null ? List.of() : Arrays.asList((String[]) array.getArray());
    }

    private <T> T call(String context, Jdbc.Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw SqlErrors.translateCall(context, e);
        }
    }
}
