package io.pgtrickle.core.capture;

import io.debezium.engine.DebeziumEngine;
import io.debezium.engine.RecordChangeEvent;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.nio.charset.StandardCharsets;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Predicate;
import javax.sql.DataSource;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.source.SourceRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes Debezium's batches: turns row events into Z-set rows of the sources' change buffers
 * (insert +1, delete −1, update −1 old / +1 new, TRUNCATE a weight-0 marker), writes a batch in one
 * transaction, and only then acknowledges it, so the slot never moves past an unbuffered change.
 *
 * <p>Rows are keyed by (xid8, 2·position in transaction + image): a replayed event maps to the same
 * key and {@code ON CONFLICT DO NOTHING} makes it count once. The position cannot be the event's
 * LSN: rows of one multi-row INSERT share a WAL record; it is counted by {@link TransactionPositions}.
 * Debezium's 32-bit xids are widened with {@link Xid8#widen}.
 *
 * <p>Nothing is dropped quietly: an event that cannot be placed (no transaction id, a key clash,
 * an impossible xid) fails the batch, which is then not acknowledged and is delivered again.
 */
final class ChangeIngester implements DebeziumEngine.ChangeConsumer<RecordChangeEvent<SourceRecord>> {
    private static final Logger log = LoggerFactory.getLogger(ChangeIngester.class);
    static final String MARKER_PREFIX = "pgtrickle";
    static final String HEARTBEAT = "heartbeat";

    private final DataSource dataSource;
    private final Consumer<String> markerSeen;
    private final Predicate<String> awaitedHere;
    private final CaptureObserver observer;
    private final Runnable writeEnded;
    private final TransactionPositions positions = new TransactionPositions();

    /**
     * @param markerSeen told of each marker once the changes before it are buffered
     * @param awaitedHere whether a marker is awaited in this process, through {@code markerSeen}:
     *     such markers need no row in {@code pgt_capture_markers}, which is for other processes
     * @param writeEnded told after every write transaction, committed or failed, before any marker
     *     of its batch or of a later one is seen (what {@code Capture#ingestTransactions} counts)
     */
    ChangeIngester(DataSource dataSource, Consumer<String> markerSeen,
                   Predicate<String> awaitedHere, CaptureObserver observer, Runnable writeEnded) {
        this.writeEnded = writeEnded;
        this.dataSource = dataSource;
        this.markerSeen = markerSeen;
        this.awaitedHere = awaitedHere;
        this.observer = observer;
    }

    /** A buffer row before its xid is widened. */
    record BufferRow(long xid32, long seq, short weight, String row, String lsn) {
    }

    @Override
    public void handleBatch(List<RecordChangeEvent<SourceRecord>> records,
                            DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        TransactionPositions.Mark start = positions.mark();
        try {
            buffer(records, committer);
        } catch (Throwable failed) {
            // Not acknowledged: should the batch come again, its events must get the same positions.
            positions.reset(start);
            throw failed;
        }
    }

    private void buffer(List<RecordChangeEvent<SourceRecord>> records,
                        DebeziumEngine.RecordCommitter<RecordChangeEvent<SourceRecord>> committer)
            throws InterruptedException {
        Map<QualifiedName, List<BufferRow>> rows = new LinkedHashMap<>();
        List<String> markers = new ArrayList<>();
        long lastLsn = -1;
        for (RecordChangeEvent<SourceRecord> event : records) {
            // Heartbeat records have no op: nothing to buffer.
            if (!(event.record().value() instanceof Struct value) || value.schema().field("op") == null) {
                continue;
            }
            String op = value.getString("op");
            Struct source = value.schema().field("source") == null ? null : value.getStruct("source");
            if ("m".equals(op)) {
                if (source != null && source.get("txId") != null) {
                    // A transactional message takes a position in its transaction, as it did in Debezium's count.
                    positions.next(source.getInt64("txId"));
                }
                Struct message = value.getStruct("message");
                if (MARKER_PREFIX.equals(message.getString("prefix"))) {
                    markers.add(new String(message.getBytes("content"), StandardCharsets.UTF_8));
                }
                continue;
            }
            if (source == null || source.get("txId") == null) {
                // A row change always belongs to a transaction; skipping it would lose it without a trace.
                throw new IllegalStateException("row event op " + op + " without a transaction id at "
                        + event.record().sourceOffset() + "; it cannot be placed in any change window");
            }
            QualifiedName table = new QualifiedName(source.getString("schema"), source.getString("table"));
            long xid = source.getInt64("txId");
            long lsn = source.getInt64("lsn");
            lastLsn = Math.max(lastLsn, lsn);
            long position = positions.next(xid);
            String lsnText = lsnText(lsn);
            List<BufferRow> target = rows.computeIfAbsent(table, t -> new ArrayList<>());
            Struct before = field(value, "before");
            Struct after = field(value, "after");
            switch (op) {
                case "c", "r" -> target.add(new BufferRow(xid, 2 * position + 1, (short) 1, RowImages.toJson(after, null), lsnText));
                case "d" -> target.add(new BufferRow(xid, 2 * position, (short) -1, RowImages.toJson(before, null), lsnText));
                case "u" -> {
                    target.add(new BufferRow(xid, 2 * position, (short) -1, RowImages.toJson(before, null), lsnText));
                    target.add(new BufferRow(xid, 2 * position + 1, (short) 1, RowImages.toJson(after, before), lsnText));
                }
                case "t" -> target.add(new BufferRow(xid, 2 * position, (short) 0, null, lsnText));
                default -> log.debug("ignoring event op {} on {}", op, table);
            }
        }
        List<CaptureObserver.Delivered> delivered;
        try {
            delivered = write(rows, lastLsn, records.size(), markers);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot write change buffers: " + e.getMessage(), e);
        }
        if (!delivered.isEmpty()) {
            observer.delivered(delivered);
        }
        for (RecordChangeEvent<SourceRecord> event : records) {
            committer.markProcessed(event);
        }
        committer.markBatchFinished();
        markers.forEach(markerSeen);
    }

    /** A struct field, or null when the event's schema has no such field (TRUNCATE has no images). */
    private static Struct field(Struct value, String name) {
        return value.schema().field(name) == null ? null : value.getStruct(name);
    }

    static String lsnText(long lsn) {
        return Long.toHexString(lsn >>> 32).toUpperCase() + "/" + Long.toHexString(lsn & 0xFFFFFFFFL).toUpperCase();
    }

    private List<CaptureObserver.Delivered> write(Map<QualifiedName, List<BufferRow>> rows, long lastLsn, int events,
                                                  List<String> markers) throws SQLException {
        // A barrier of this process is released by markerSeen: writing its token would cost a
        // commit per barrier, and an idle barrier then none at all.
        List<String> tokens = markers.stream().filter(m -> !m.equals(HEARTBEAT) && !awaitedHere.test(m)).toList();
        if (rows.isEmpty() && lastLsn < 0 && tokens.isEmpty()) {
            return List.of();
        }
        List<CaptureObserver.Delivered> delivered = new ArrayList<>();
        try (Connection c = dataSource.getConnection()) {
            writeTransaction(c, rows, lastLsn, events, tokens, delivered);
        } finally {
            // Also after a failure: the commit may have reached the server all the same.
            writeEnded.run();
        }
        return delivered;
    }

    private void writeTransaction(Connection c, Map<QualifiedName, List<BufferRow>> rows, long lastLsn, int events,
                                  List<String> tokens, List<CaptureObserver.Delivered> delivered) throws SQLException {
        Jdbc.inTransaction(c, Connection.TRANSACTION_READ_COMMITTED, tx -> {
            delivered.clear();
            Routing routing = rows.isEmpty() ? Routing.NONE : routing(tx);
            for (var entry : rows.entrySet()) {
                for (Route route : routing.routes().getOrDefault(entry.getKey(), List.of())) {
                    ChangeSource target = route.target();
                    List<BufferRow> batch = distinct(target, entry.getValue());
                    long[] xids = new long[batch.size()];
                    for (int i = 0; i < xids.length; i++) {
                        BufferRow r = batch.get(i);
                        xids[i] = Xid8.widen(r.xid32(), routing.reference());
                        delivered.add(new CaptureObserver.Delivered(target.name(), r.xid32(), xids[i], r.weight(), r.row()));
                    }
                    var savepoint = tx.setSavepoint();
                    try {
                        insert(tx, target, batch, xids, route.keep());
                        tx.releaseSavepoint(savepoint);
                    } catch (SQLException e) {
                        if (!"42P01".equals(e.getSQLState())) {
                            throw e;
                        }
                        // Tracking stopped meanwhile and the buffer is gone: these changes concern nobody.
                        tx.rollback(savepoint);
                    }
                }
            }
            if (!tokens.isEmpty()) {
                // Seen markers, for processes waiting without a WAL stream of their own.
                try (PreparedStatement ps = tx.prepareStatement("INSERT INTO pgtrickle.pgt_capture_markers (token)"
                        + " SELECT unnest(?::text[]) ON CONFLICT DO NOTHING")) {
                    ps.setArray(1, tx.createArrayOf("text", tokens.toArray()));
                    ps.executeUpdate();
                }
                Jdbc.update(tx, "DELETE FROM pgtrickle.pgt_capture_markers WHERE seen_at < clock_timestamp() - interval '10 minutes'");
            }
            if (lastLsn >= 0) {
                Jdbc.update(tx, "UPDATE pgtrickle.pgt_capture_state SET last_event_lsn = ?::pg_lsn,"
                        + " last_event_at = clock_timestamp(), events_buffered = events_buffered + ?",
                        lsnText(lastLsn), events);
            }
            return null;
        });
    }

    /**
     * Where the events of one table go: the buffer of each WAL-tracked source whose tree holds it
     * (the table itself, the partitioned tables above a partition, the parents of a child).
     *
     * @param keep the source's columns when the table has more (an inheritance child's own
     *     columns are cut off), else {@code null}
     */
    record Route(ChangeSource target, String[] keep) {
    }

    /**
     * The routes of every table now, and the reference for widening xids.
     *
     * @param reference a current xid8: any is valid, since every decodable xid is within 2^31 of it
     */
    record Routing(long reference, Map<QualifiedName, List<Route>> routes) {
        static final Routing NONE = new Routing(-1, Map.of());
    }

    /**
     * Reads the routes of every table now, in the same round trip as the reference. Events carry
     * table names, and a partition attached or a child added since the last batch must be routed
     * too, so this is read per batch (one small join); the members and their capture are kept in
     * line by {@link ChangeSources#reconcile}.
     */
    private static Routing routing(Connection c) throws SQLException {
        Map<QualifiedName, List<Route>> routes = new HashMap<>();
        Map<Long, ChangeSource> targets = new HashMap<>();
        // The members as recorded by the last reconcile, which table DDL runs in its own transaction.
        // The outer join yields the reference also when nothing is tracked from the WAL.
        try (PreparedStatement ps = c.prepareStatement("SELECT pg_snapshot_xmax(pg_current_snapshot())::text,"
                + " r.source_relid, r.source_schema, r.source_name, r.buffer_table, r.nspname, r.relname, r.keep"
                + " FROM (SELECT 1) one LEFT JOIN ("
                + " SELECT s.source_relid::bigint, s.source_schema, s.source_name, s.buffer_table, n.nspname::text,"
                + " m.relname::text,"
                + " CASE WHEN t.member <> s.source_relid AND pgtrickle._has_extra_columns(t.member, s.source_relid)"
                + "   THEN (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a"
                + "          WHERE a.attrelid = s.source_relid AND a.attnum > 0 AND NOT a.attisdropped) END AS keep"
                + " FROM pgtrickle.pgt_change_sources s, unnest(coalesce(s.members, ARRAY[s.source_relid])) t(member)"
                + " JOIN pg_class m ON m.oid = t.member JOIN pg_namespace n ON n.oid = m.relnamespace"
                + " WHERE s.cdc_mode = 'WAL') r ON true");
             ResultSet rs = ps.executeQuery()) {
            long reference = -1;
            while (rs.next()) {
                reference = Long.parseLong(rs.getString(1));
                if (rs.getObject(2) == null) {
                    continue;
                }
                long relid = rs.getLong(2);
                ChangeSource target = targets.get(relid);
                if (target == null) {
                    target = new ChangeSource(relid, new QualifiedName(rs.getString(3), rs.getString(4)), CdcMode.WAL,
                            rs.getString(5));
                    targets.put(relid, target);
                }
                Array keep = rs.getArray(8);
                routes.computeIfAbsent(new QualifiedName(rs.getString(6), rs.getString(7)), k -> new ArrayList<>())
                        .add(new Route(target, keep == null ? null : (String[]) keep.getArray()));
            }
            return new Routing(reference, routes);
        }
    }

    /**
     * The batch's rows with repeats of one event dropped; two different rows under one key would
     * lose one of them, so they fail the batch.
     */
    static List<BufferRow> distinct(ChangeSource target, List<BufferRow> rows) {
        Map<List<Long>, BufferRow> byKey = new LinkedHashMap<>();
        for (BufferRow r : rows) {
            BufferRow seen = byKey.putIfAbsent(List.of(r.xid32(), r.seq()), r);
            if (seen != null && (seen.weight() != r.weight() || !java.util.Objects.equals(seen.row(), r.row()))) {
                throw new IllegalStateException("two different changes of " + target.name() + " under one key (txId "
                        + r.xid32() + ", seq " + r.seq() + ") in one batch; the batch is not buffered, so that no"
                        + " change is lost, and capture stops until this is resolved");
            }
        }
        return byKey.size() == rows.size() ? rows : new ArrayList<>(byKey.values());
    }

    /**
     * The condition that images {@code a} and {@code b} of one change differ in more than the
     * encoding of JSON nulls: an event replayed after an upgrade may have been buffered before
     * JSON nulls were told apart from SQL NULL ({@link RowDecoder}), and is the same change.
     * Their decoded rows, as jsonb (where both are {@code null}), are then equal.
     */
    private static String differBeyondJsonNulls(String a, String b, ChangeSource target) {
        String type = target.name().quoted();
        return "to_jsonb(jsonb_populate_record(NULL::" + type + ", " + a + ")) IS DISTINCT FROM to_jsonb(jsonb_populate_record(NULL::"
                + type + ", " + b + "))";
    }

    private static void insert(Connection c, ChangeSource target, List<BufferRow> rows, long[] xids, String[] keep)
            throws SQLException {
        Long[] xidArray = new Long[rows.size()];
        Long[] seqs = new Long[rows.size()];
        Short[] weights = new Short[rows.size()];
        String[] images = new String[rows.size()];
        String[] lsns = new String[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            BufferRow r = rows.get(i);
            xidArray[i] = xids[i];
            seqs[i] = r.seq();
            weights[i] = r.weight();
            images[i] = r.row();
            lsns[i] = r.lsn();
        }
        // Transactions that committed before tracking began are in the stream tables' initial
        // contents, not in any window; they also arrive when Debezium replays the events of an
        // earlier table of the same name (events name tables, not relations).
        // Replays are expected (a restart resumes from the slot) and carry identical rows. A key that
        // already holds a different row would mean one of the two changes is lost: nothing is
        // written and the batch fails, so the slot keeps it. Only the rows the insert skipped are
        // compared with the buffer, so the usual batch (no replay) costs no extra index probes.
        try (PreparedStatement ps = c.prepareStatement("WITH offered AS MATERIALIZED ("
                + " SELECT x::text::xid8 AS xid, s AS seq, w AS weight,"
                // A child's row keeps only the columns of the source it is routed to (and its list of JSON nulls).
                + " CASE WHEN r IS NULL OR ?::text[] IS NULL THEN r::jsonb ELSE (SELECT coalesce(jsonb_object_agg(e.key, e.value),"
                + "   '{}') FROM jsonb_each(r::jsonb) e WHERE e.key = ANY (?::text[]) OR e.key = '" + RowDecoder.JSON_NULLS_KEY + "')"
                + " END AS row, l::pg_lsn AS lsn"
                + " FROM unnest(?::bigint[], ?::bigint[], ?::smallint[], ?::text[], ?::text[]) AS u(x, s, w, r, l)"
                + " WHERE NOT pg_visible_in_snapshot(x::text::xid8, (SELECT tracked_since"
                + "   FROM pgtrickle.pgt_change_sources WHERE source_relid = " + target.relid() + "::oid))),"
                + " inserted AS (INSERT INTO " + target.buffer() + " (xid, seq, weight, row, lsn)"
                + "   SELECT xid, seq, weight, row, lsn FROM offered ON CONFLICT (xid, seq) DO NOTHING RETURNING xid, seq),"
                + " skipped AS MATERIALIZED (SELECT o.* FROM offered o LEFT JOIN inserted i USING (xid, seq) WHERE i.xid IS NULL),"
                + " clashes AS (SELECT xid, seq FROM skipped s JOIN " + target.buffer() + " b USING (xid, seq)"
                + "   WHERE b.weight <> s.weight OR (b.row IS DISTINCT FROM s.row AND " + differBeyondJsonNulls("b.row", "s.row", target) + "))"
                + " SELECT (SELECT count(*) FROM clashes),"
                + " (SELECT string_agg(xid::text || '/' || seq, ', ') FROM (SELECT * FROM clashes LIMIT 5) d)")) {
            java.sql.Array columns = keep == null ? null : c.createArrayOf("text", keep);
            ps.setArray(1, columns);
            ps.setArray(2, columns);
            ps.setArray(3, c.createArrayOf("bigint", xidArray));
            ps.setArray(4, c.createArrayOf("bigint", seqs));
            ps.setArray(5, c.createArrayOf("smallint", weights));
            ps.setArray(6, c.createArrayOf("text", images));
            ps.setArray(7, c.createArrayOf("text", lsns));
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long clashed = rs.getLong(1);
                if (clashed > 0) {
                    throw new IllegalStateException(clashed + " change(s) of " + target.name() + " clash with a"
                            + " different change already buffered in " + target.buffer() + " under the same (xid, seq) key ("
                            + rs.getString(2) + "); the batch is not buffered, so that no change is lost, and capture stops until this"
                            + " is resolved");
                }
            }
        }
    }
}
