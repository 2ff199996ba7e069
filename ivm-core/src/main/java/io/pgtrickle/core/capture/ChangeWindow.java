package io.pgtrickle.core.capture;

import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyManager;

/**
 * The changes one refresh consumes: for each source, the buffered rows whose transaction is
 * visible in the refresh snapshot and was not visible in the previous frontier.
 *
 * <p>Buffer rows written after the refresh transaction took its snapshot are invisible inside it,
 * even when their transaction is visible in the snapshot (WAL capture writes them later). So the
 * window is read on a second connection, after capture has caught up, and copied into temporary
 * tables of the refresh transaction ({@code pg_temp.__pgt_window_<relid>}: xid, seq, weight, row),
 * one for each source with rows in the window.
 */
public final class ChangeWindow {
    private static final Pattern SNAPSHOT = Pattern.compile("\\d+:\\d+:[\\d,]*");

    /**
     * One source's part of the window. A TRUNCATE in the window makes it {@code truncated}. An
     * empty part has no temporary table ({@code tempTable} null).
     */
    public record Part(ChangeSource source, String tempTable, long rows, boolean truncated) {
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
     * Reads the window of {@code sources} between {@code previousFrontier} and {@code snapshot}
     * through {@code reader} and copies it into temporary tables of {@code tx}.
     */
    public static ChangeWindow load(Connection tx, DataSource reader, List<ChangeSource> sources, String snapshot,
                                    String previousFrontier, boolean walLacksGeneratedColumns) throws SQLException {
        requireSnapshot(snapshot);
        requireSnapshot(previousFrontier);
        List<Part> parts = new ArrayList<>();
        try (Connection r = reader.getConnection()) {
            CopyManager out = r.unwrap(PGConnection.class).getCopyAPI();
            CopyManager in = tx.unwrap(PGConnection.class).getCopyAPI();
            for (ChangeSource s : sources) {
                String temp = "__pgt_window_" + s.relid();
                ByteArrayOutputStream data = new ByteArrayOutputStream();
                // Snapshots are validated digits, colons and commas: safe as literals (COPY takes no parameters).
                long read = out.copyOut("COPY (SELECT xid, seq, weight, row FROM " + s.buffer()
                        + " WHERE pg_visible_in_snapshot(xid, '" + snapshot + "'::pg_snapshot)"
                        + " AND NOT pg_visible_in_snapshot(xid, '" + previousFrontier + "'::pg_snapshot)"
                        + " ORDER BY xid, seq) TO STDOUT (FORMAT binary)", data);
                if (read == 0) {
                    // Nothing to hand over: no temporary table (two round trips and catalog writes saved).
                    parts.add(new Part(s, null, 0, false));
                    continue;
                }
                Jdbc.executeRaw(tx, "CREATE TEMP TABLE " + Identifiers.quote(temp)
                        + " (xid xid8, seq bigint, weight smallint, row jsonb) ON COMMIT DROP");
                long rows = in.copyIn("COPY " + Identifiers.quote(temp) + " FROM STDIN (FORMAT binary)",
                        new ByteArrayInputStream(data.toByteArray()));
                if (rows > 0 && s.mode() == CdcMode.WAL && walLacksGeneratedColumns) {
                    GeneratedColumns.complete(tx, s, temp);
                }
                boolean truncated = rows > 0 && Boolean.TRUE.equals(Jdbc.queryValue(tx, Boolean.class,
                        "SELECT EXISTS (SELECT 1 FROM " + Identifiers.quote(temp) + " WHERE weight = 0)"));
                parts.add(new Part(s, temp, rows, truncated));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("could not copy the change window", e);
        }
        return new ChangeWindow(parts);
    }

    private static void requireSnapshot(String snapshot) {
        if (snapshot == null || !SNAPSHOT.matcher(snapshot).matches()) {
            throw new IllegalArgumentException("not a pg_snapshot: " + snapshot);
        }
    }
}
