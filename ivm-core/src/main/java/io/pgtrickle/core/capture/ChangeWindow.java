package io.pgtrickle.core.capture;

import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.SqlCheck;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.PGConnection;

/**
 * The changes one refresh consumes: for each source, the buffered rows whose transaction is
 * visible in the refresh snapshot and was not visible in the previous frontier.
 *
 * <p>The window goes into temporary tables of the refresh transaction
 * ({@code pg_temp.__pgt_window_<relid>}: xid, seq, weight, row); see {@link #load} for how rows the
 * WAL ingester wrote after the refresh snapshot get there.
 */
public final class ChangeWindow {
    private static final Pattern SNAPSHOT = Pattern.compile("\\d+:\\d+:[\\d,]*");

    /** One source's part of the window. A TRUNCATE in the window makes it {@code truncated}. */
    public record Part(ChangeSource source, String tempTable, long rows, boolean truncated) {
        /**
         * Decodes the part once into {@link #rowsTable}: the source's row type plus
         * {@code __pgt_w}, analyzed, so the delta SQL reads typed columns with statistics. Read
         * from the jsonb images directly, every use would decode each row again, once per column
         * it names, and the planner would guess the window's size and key spread.
         *
         * @param decoder how the source's images read back (the compiled plan knows it), or null
         *                to read it from the catalog
         */
        public void decode(Connection tx, RowDecoder decoder) throws SQLException {
            if (decoder == null) {
                decoder = RowDecoder.load(tx, source.relid(), source.name());
            }
            for (String statement : decodeSql(tempTable, decoder)) {
                Jdbc.executeRaw(tx, statement);
            }
        }
    }

    /**
     * The statements {@link Part#decode} runs for window table {@code tempTable}: also the body of
     * an IMMEDIATE trigger, which builds its window from transition tables.
     */
    public static List<String> decodeSql(String tempTable, RowDecoder decoder) {
        return List.of("CREATE TEMP TABLE " + Identifiers.quote(rowsTable(tempTable)) + " ON COMMIT DROP AS"
                    + " SELECT " + decoder.selectList("__pgt_r", "__pgt_c.row") + ", __pgt_c.weight::bigint AS __pgt_w FROM pg_temp."
                    + Identifiers.quote(tempTable) + " __pgt_c, " + decoder.from("__pgt_c.row", "__pgt_r")
                    + " WHERE __pgt_c.weight <> 0",
            // A small sample is enough for the planner to see the size and the spread of the keys;
            // the default (30,000 rows) would cost as much as decoding the window.
            "SET LOCAL default_statistics_target = 10; ANALYZE pg_temp."
                    + Identifiers.quote(rowsTable(tempTable)) + "; ANALYZE pg_temp." + Identifiers.quote(tempTable)
                    + " (weight); SET LOCAL default_statistics_target TO DEFAULT");
    }

    /** The typed table {@link Part#decode} makes of window table {@code window}. */
    public static String rowsTable(String window) {
        return window + "_rows";
    }

    private final List<Part> parts;

    private ChangeWindow(List<Part> parts) {
        this.parts = List.copyOf(parts);
    }

    public List<Part> parts() {
        return parts;
    }

    public long rows() {
        return parts.stream().mapToLong(Part::rows).sum();
    }

    public boolean truncated() {
        return parts.stream().anyMatch(Part::truncated);
    }

    /**
     * What {@code tx} sees of a window in place, for every source in one statement: the rows
     * whose writer committed before the refresh snapshot (all of a trigger buffer's; under WAL
     * capture all but those the ingester wrote after the snapshot), and whether one of them is a
     * TRUNCATE. An estimate to decide on before reading anything, and what spares an empty part
     * its temporary table. Counted up to {@code cap} rows per source: {@link #capped} when one
     * reached it (its count and truncation flag then describe only the rows counted).
     */
    public record InPlace(long[] rows, boolean[] truncated, boolean[] checks, long cap) {
        public boolean capped() {
            for (long r : rows) {
                if (r >= cap) {
                    return true;
                }
            }
            return false;
        }

        public long total() {
            long n = 0;
            for (long r : rows) {
                n += r;
            }
            return n;
        }
    }

    /**
     * Counts {@link InPlace} for {@code sources}, and evaluates {@code checks} (in
     * {@link InPlace#checks}, in order; a null check is false), in one statement.
     */
    public static InPlace inPlace(Connection tx, List<ChangeSource> sources, String snapshot, String previousFrontier,
                                  List<SqlCheck> checks) throws SQLException {
        return inPlace(tx, sources, snapshot, previousFrontier, checks, Long.MAX_VALUE);
    }

    /**
     * {@link #inPlace(Connection, List, String, String, List)} counting at most {@code cap} rows per
     * source: enough to know that a window is past a size, without counting all of a large one.
     */
    public static InPlace inPlace(Connection tx, List<ChangeSource> sources, String snapshot, String previousFrontier,
                                  List<SqlCheck> checks, long cap) throws SQLException {
        requireSnapshot(snapshot);
        requireSnapshot(previousFrontier);
        long[] rows = new long[sources.size()];
        boolean[] truncated = new boolean[sources.size()];
        boolean[] results = new boolean[checks.size()];
        String inWindow = inWindow(snapshot, previousFrontier);
        List<String> columns = new ArrayList<>();
        List<Object> parameters = new ArrayList<>();
        for (ChangeSource s : sources) {
            String counted = cap == Long.MAX_VALUE ? s.buffer() + inWindow
                    : "(SELECT weight FROM " + s.buffer() + inWindow + " LIMIT " + cap + ") __pgt_counted";
            columns.add("(SELECT array[count(*), count(*) FILTER (WHERE weight = 0)] FROM " + counted + ")");
        }
        for (SqlCheck check : checks) {
            columns.add(check == null ? "false" : "(" + check.sql() + ")");
            if (check != null) {
                parameters.addAll(check.parameters());
            }
        }
        if (columns.isEmpty()) {
            return new InPlace(rows, truncated, results, cap);
        }
        try (PreparedStatement ps = Jdbc.prepare(tx, "SELECT " + String.join(", ", columns), parameters.toArray());
             ResultSet rs = ps.executeQuery()) {
            rs.next();
            for (int i = 0; i < sources.size(); i++) {
                Long[] counts = (Long[]) rs.getArray(i + 1).getArray();
                rows[i] = counts[0];
                truncated[i] = counts[1] > 0;
            }
            for (int i = 0; i < checks.size(); i++) {
                results[i] = rs.getBoolean(sources.size() + i + 1);
            }
        }
        return new InPlace(rows, truncated, results, cap);
    }

    /**
     * Reads the window of {@code sources} between {@code previousFrontier} and {@code snapshot}
     * into temporary tables of {@code tx}, one for each source with changes.
     *
     * <p>Most of it {@code tx} reads itself: every buffer row whose writer committed before the
     * refresh snapshot. A trigger writes in the source transaction, so a trigger buffer holds
     * nothing else. The WAL ingester writes later, and rows it committed after the snapshot (those
     * the capture barrier waited for) are invisible in {@code tx}: only those, recognised by the
     * ingester's transaction id ({@code ingest_xid}) not being visible in the snapshot, are read
     * through {@code reader} and copied in. The two parts are disjoint and together hold every row
     * of the window; the bulk never leaves the server.
     *
     * @param inPlace what {@code tx} sees in place ({@link #inPlace}, same snapshots)
     * @param lateRowsPossible whether the WAL ingester may have committed rows after the snapshot;
     *     when it is known not to have (see {@code Capture#ingestTransactions}), nothing is copied
     */
    public static ChangeWindow load(Connection tx, DataSource reader, List<ChangeSource> sources, String snapshot,
                                    String previousFrontier, InPlace inPlace, boolean lateRowsPossible,
                                    boolean walLacksGeneratedColumns) throws SQLException {
        requireSnapshot(snapshot);
        requireSnapshot(previousFrontier);
        String inWindow = inWindow(snapshot, previousFrontier);
        List<Part> parts = new ArrayList<>();
        Connection r = null;
        try {
            for (int i = 0; i < sources.size(); i++) {
                ChangeSource s = sources.get(i);
                String temp = "__pgt_window_" + s.relid();
                long rows = inPlace.rows()[i];
                boolean truncated = inPlace.truncated()[i];
                if (rows > 0) {
                    try (Statement st = tx.createStatement()) {
                        rows = st.executeUpdate("CREATE TEMP TABLE " + Identifiers.quote(temp) + " ON COMMIT DROP AS"
                                + " SELECT xid, seq, weight, row FROM " + s.buffer() + inWindow);
                    }
                }
                if (s.mode() == CdcMode.WAL && lateRowsPossible) {
                    if (r == null) {
                        r = reader.getConnection();
                    }
                    ByteArrayOutputStream late = new ByteArrayOutputStream();
                    long lateRows = r.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY (SELECT xid, seq, weight, row FROM "
                            + s.buffer() + inWindow + " AND NOT pg_visible_in_snapshot(ingest_xid, '" + snapshot
                            + "'::pg_snapshot)) TO STDOUT (FORMAT binary)", late);
                    if (lateRows > 0) {
                        if (rows == 0) {
                            Jdbc.executeRaw(tx, "CREATE TEMP TABLE " + Identifiers.quote(temp) + " ON COMMIT DROP AS"
                                    + " SELECT xid, seq, weight, row FROM " + s.buffer() + " WITH NO DATA");
                        }
                        rows += tx.unwrap(PGConnection.class).getCopyAPI().copyIn("COPY " + Identifiers.quote(temp)
                                + " FROM STDIN (FORMAT binary)", new ByteArrayInputStream(late.toByteArray()));
                        truncated = Boolean.TRUE.equals(Jdbc.queryValue(tx, Boolean.class,
                                "SELECT EXISTS (SELECT 1 FROM " + Identifiers.quote(temp) + " WHERE weight = 0)"));
                    }
                }
                if (rows > 0 && s.mode() == CdcMode.WAL && walLacksGeneratedColumns) {
                    GeneratedColumns.complete(tx, s, temp, RowDecoder.load(tx, s.relid(), s.name()));
                }
                parts.add(new Part(s, temp, rows, truncated));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not copy the change window", e);
        } finally {
            if (r != null) {
                r.close();
            }
        }
        return new ChangeWindow(parts);
    }

    /** The condition of the rows in the window (snapshots validated: digits, colons and commas). */
    private static String inWindow(String snapshot, String previousFrontier) {
        // Literals, not parameters: COPY takes none. The xid bounds follow from the visibility
        // conditions; they let the buffer's primary key skip rows older windows left for slower readers.
        return " WHERE xid >= pg_snapshot_xmin('" + previousFrontier + "'::pg_snapshot)"
                + " AND xid < pg_snapshot_xmax('" + snapshot + "'::pg_snapshot)"
                + " AND pg_visible_in_snapshot(xid, '" + snapshot + "'::pg_snapshot)"
                + " AND NOT pg_visible_in_snapshot(xid, '" + previousFrontier + "'::pg_snapshot)";
    }

    private static void requireSnapshot(String snapshot) {
        if (snapshot == null || !SNAPSHOT.matcher(snapshot).matches()) {
            throw new IllegalArgumentException("not a pg_snapshot: " + snapshot);
        }
    }
}
