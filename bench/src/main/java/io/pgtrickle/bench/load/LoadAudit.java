package io.pgtrickle.bench.load;

import io.pgtrickle.bench.LongList;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CaptureObserver;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Accounts for every writer transaction of a load run ({@code bench load --audit}). Three sources
 * of evidence, none of them a round trip of the writers': what WAL capture delivered (a
 * {@link CaptureObserver} on the engine, which runs in this JVM), what reached and left the
 * change buffer of {@code load_orders} (statement-level triggers copying each inserted and deleted
 * buffer row into {@value #LOG}, which nothing cleans), and at the end {@code load_join}'s
 * frontier and contents, read together. Each order id must be in {@code load_join} exactly once;
 * a transaction where one is not gets a {@link LostWrite.Kind}.
 */
final class LoadAudit implements CaptureObserver {
    static final String LOG = "load_audit_buffer";
    private static final String FUNCTION = "load_audit_buffer_log";
    private static final QualifiedName ORDERS = QualifiedName.parse("public." + LoadBench.ORDERS);
    private static final String READER = "load_join";

    private final PgTrickleEngine engine;
    private final boolean walCapture;
    /** Writer transactions: xid, how many order ids, then the ids, one after the other. */
    private final LongList transactions = new LongList();
    /** Deliveries of load_orders inserts: order id, Debezium txId, xid8; written by the capture thread. */
    private final LongList deliveries = new LongList();
    private long transactionCount;
    private long rowCount;

    private LoadAudit(PgTrickleEngine engine) {
        this.engine = engine;
        this.walCapture = engine.capture().mode() == CdcMode.WAL;
    }

    /** Creates the log and the buffer triggers and starts observing capture; before the load starts. */
    static LoadAudit install(Connection c, PgTrickleEngine engine) throws SQLException {
        String buffer = Sql.value(c, String.class, "SELECT 'pgtrickle_changes.' || quote_ident(buffer_table)"
                + " FROM pgtrickle.pgt_change_sources WHERE source_relid = to_regclass(?)", "public." + LoadBench.ORDERS);
        if (buffer == null) {
            throw new IllegalStateException(LoadBench.ORDERS + " has no change buffer to audit");
        }
        // Whether load_join's frontier already includes the row's xid, as the writing transaction
        // sees it: a row deleted before then was cleaned too early, one inserted after then came late.
        String readerSaw = "coalesce((SELECT pg_visible_in_snapshot(r.xid, st.frontier) FROM pgtrickle.pgt_stream_tables"
                + " st WHERE st.pgt_schema = 'public' AND st.pgt_name = '" + READER + "'), false)";
        Sql.execute(c,
                "CREATE TABLE " + LOG + " (xid xid8 NOT NULL, seq bigint NOT NULL, weight smallint NOT NULL,"
                        + " order_id bigint, inserted boolean NOT NULL, reader_saw boolean NOT NULL,"
                        + " at timestamptz NOT NULL DEFAULT clock_timestamp())",
                "CREATE FUNCTION " + FUNCTION + "() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
                        + " IF TG_OP = 'INSERT' THEN"
                        + "   INSERT INTO public." + LOG + " (xid, seq, weight, order_id, inserted, reader_saw)"
                        + "   SELECT r.xid, r.seq, r.weight, (r.row ->> 'id')::bigint, true, " + readerSaw
                        + "   FROM new_rows r;"
                        + " ELSE"
                        + "   INSERT INTO public." + LOG + " (xid, seq, weight, order_id, inserted, reader_saw)"
                        + "   SELECT r.xid, r.seq, r.weight, (r.row ->> 'id')::bigint, false, " + readerSaw
                        + "   FROM old_rows r;"
                        + " END IF; RETURN NULL; END $$",
                "CREATE TRIGGER load_audit_inserted AFTER INSERT ON " + buffer + " REFERENCING NEW TABLE AS new_rows"
                        + " FOR EACH STATEMENT EXECUTE FUNCTION public." + FUNCTION + "()",
                "CREATE TRIGGER load_audit_deleted AFTER DELETE ON " + buffer + " REFERENCING OLD TABLE AS old_rows"
                        + " FOR EACH STATEMENT EXECUTE FUNCTION public." + FUNCTION + "()");
        LoadAudit audit = new LoadAudit(engine);
        engine.capture().observe(audit);
        return audit;
    }

    /** Removes the log and its function (the triggers go with the buffer, or with the function). */
    static void drop(Connection c) throws SQLException {
        Sql.execute(c, "DROP TABLE IF EXISTS " + LOG, "DROP FUNCTION IF EXISTS " + FUNCTION + "() CASCADE");
    }

    /** Stops observing capture. */
    void stop() {
        engine.capture().observe(null);
    }

    @Override
    public void delivered(List<Delivered> changes) {
        // On the capture thread: keep it to a scan of each row image for its id.
        synchronized (deliveries) {
            for (Delivered d : changes) {
                if (d.weight() == 1 && d.row() != null && ORDERS.equals(d.table())) {
                    long id = idOf(d.row());
                    if (id >= 0) {
                        deliveries.add(id);
                        deliveries.add(d.txId32());
                        deliveries.add(d.xid8());
                    }
                }
            }
        }
    }

    /** The {@code "id"} of a row image as the capture encodes it ({@code {"id":123,...}}); -1 without one. */
    static long idOf(String json) {
        int at = json.indexOf("\"id\"");
        if (at < 0) {
            return -1;
        }
        at += 4;
        while (at < json.length() && (json.charAt(at) == ':' || json.charAt(at) == ' ')) {
            at++;
        }
        long id = 0;
        int start = at;
        while (at < json.length() && Character.isDigit(json.charAt(at))) {
            id = id * 10 + (json.charAt(at++) - '0');
        }
        return at == start ? -1 : id;
    }

    /** Records one writer's transactions of a phase: xids[i] wrote {@code counts[i]} ids, in order, from ids. */
    synchronized void record(long[] xids, long[] counts, long[] ids) {
        int at = 0;
        for (int i = 0; i < xids.length; i++) {
            transactions.add(xids[i]);
            transactions.add(counts[i]);
            for (int k = 0; k < counts[i]; k++) {
                transactions.add(ids[at++]);
            }
        }
        transactionCount += xids.length;
        rowCount += ids.length;
    }

    /** Compares {@code load_join} with every recorded transaction; call once the frontier includes them all. */
    synchronized AuditResult check(Connection c) throws SQLException {
        List<WriteAudit.WriterTransaction> txs = transactions();
        long minId = txs.stream().flatMapToLong(t -> Arrays.stream(t.orderIds())).min().orElse(Long.MAX_VALUE);
        Snapshot frontier;
        Map<Long, Integer> copies;
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            // One snapshot for the frontier and the contents: they commit together.
            Sql.execute(c, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ");
            frontier = Snapshot.parse(Sql.value(c, String.class, "SELECT frontier::text FROM pgtrickle.pgt_stream_tables"
                    + " WHERE pgt_schema = 'public' AND pgt_name = ?", READER));
            long[] present = longs(c, "SELECT id FROM public." + READER + " WHERE id >= ? ORDER BY id", minId);
            copies = unusualCopies(txs.stream().flatMapToLong(t -> Arrays.stream(t.orderIds())).sorted().toArray(),
                    present);
            c.commit();
        } finally {
            c.setAutoCommit(autoCommit);
        }
        List<WriteAudit.WriterTransaction> suspects = txs.stream()
                .filter(t -> Arrays.stream(t.orderIds()).anyMatch(copies::containsKey)).toList();
        long[] suspectIds = suspects.stream().flatMapToLong(t -> Arrays.stream(t.orderIds())).toArray();
        List<WriteAudit.Delivery> delivered = deliveriesOf(suspectIds);
        List<WriteAudit.BufferEvent> buffered = bufferEventsOf(c, suspectIds);
        List<LostWrite> findings = new ArrayList<>();
        for (WriteAudit.WriterTransaction t : suspects) {
            Map<Long, Integer> own = new HashMap<>();
            Arrays.stream(t.orderIds()).forEach(id -> own.put(id, copies.getOrDefault(id, 1)));
            WriteAudit.classify(new WriteAudit.Evidence(t, own,
                    delivered.stream().filter(d -> own.containsKey(d.orderId())).toList(),
                    buffered.stream().filter(b -> own.containsKey(b.orderId())).toList(), frontier, walCapture))
                    .ifPresent(findings::add);
        }
        return new AuditResult(transactionCount, rowCount, findings);
    }

    /** The written ids (sorted) that {@code present} (sorted) holds other than once, with their number of copies. */
    static Map<Long, Integer> unusualCopies(long[] written, long[] present) {
        Map<Long, Integer> unusual = new HashMap<>();
        int p = 0;
        for (long id : written) {
            while (p < present.length && present[p] < id) {
                p++;
            }
            int n = 0;
            while (p + n < present.length && present[p + n] == id) {
                n++;
            }
            if (n != 1) {
                unusual.put(id, n);
            }
        }
        return unusual;
    }

    private List<WriteAudit.WriterTransaction> transactions() {
        List<WriteAudit.WriterTransaction> txs = new ArrayList<>();
        long[] all = transactions.toArray();
        for (int at = 0; at < all.length; ) {
            long xid = all[at];
            int n = (int) all[at + 1];
            txs.add(new WriteAudit.WriterTransaction(xid, Arrays.copyOfRange(all, at + 2, at + 2 + n)));
            at += 2 + n;
        }
        return txs;
    }

    private List<WriteAudit.Delivery> deliveriesOf(long[] ids) {
        Set<Long> wanted = new HashSet<>();
        Arrays.stream(ids).forEach(wanted::add);
        List<WriteAudit.Delivery> found = new ArrayList<>();
        synchronized (deliveries) {
            for (int i = 0; i + 2 < deliveries.size(); i += 3) {
                if (wanted.contains(deliveries.get(i))) {
                    found.add(new WriteAudit.Delivery(deliveries.get(i), deliveries.get(i + 1), deliveries.get(i + 2)));
                }
            }
        }
        return found;
    }

    private static List<WriteAudit.BufferEvent> bufferEventsOf(Connection c, long[] ids) throws SQLException {
        List<WriteAudit.BufferEvent> events = new ArrayList<>();
        if (ids.length == 0) {
            return events;
        }
        try (PreparedStatement ps = c.prepareStatement("SELECT order_id, xid::text, inserted, reader_saw FROM "
                + LOG + " WHERE order_id = ANY(?) ORDER BY at")) {
            Array array = c.createArrayOf("bigint", Arrays.stream(ids).boxed().toArray());
            ps.setArray(1, array);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    events.add(new WriteAudit.BufferEvent(rs.getLong(1), Long.parseUnsignedLong(rs.getString(2)),
                            rs.getBoolean(3), rs.getBoolean(4)));
                }
            }
        }
        return events;
    }

    private static long[] longs(Connection c, String sql, long parameter) throws SQLException {
        LongList values = new LongList();
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setLong(1, parameter);
            ps.setFetchSize(10_000);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    values.add(rs.getLong(1));
                }
            }
        }
        return values.toArray();
    }
}
