package io.pgtrickle.bench.capture;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;

/**
 * What the change buffer shows about the rows written in the measured window, all from the
 * database's clock. A row's latency is {@code captured_at} (when capture wrote it into the buffer)
 * minus its {@code written_at} (when its INSERT ran, just before the commit).
 *
 * @param rowsWritten rows the table received in the window
 * @param rowsBuffered of those, the rows in the buffer
 * @param p50 latency percentiles and maximum, in seconds (NaN without rows)
 * @param ingestSeconds from the first row written in the window to the last one buffered
 */
public record CaptureStats(long rowsWritten, long rowsBuffered, double p50, double p95, double p99, double max,
                          double ingestSeconds) {

    /** Changes per second that reached the buffer over the window; NaN without rows. */
    public double ingestRate() {
        return rowsBuffered > 0 && ingestSeconds > 0 ? rowsBuffered / ingestSeconds : Double.NaN;
    }

    /** Computes the figures of rows written from {@code from} on; {@code buffer} is the quoted buffer table. */
    public static CaptureStats measure(Connection c, String buffer, OffsetDateTime from) throws SQLException {
        long written;
        try (PreparedStatement ps = c.prepareStatement("SELECT count(*) FROM public." + CaptureSchema.TABLE
                + " WHERE written_at >= ?")) {
            ps.setObject(1, from);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                written = rs.getLong(1);
            }
        }
        String sql = "WITH m AS ("
                + "  SELECT (b.row ->> 'written_at')::timestamptz AS written_at, b.captured_at"
                + "    FROM " + buffer + " b"
                + "   WHERE b.weight = 1 AND (b.row ->> 'written_at')::timestamptz >= ?),"
                + " l AS (SELECT written_at, captured_at,"
                + "              extract(epoch FROM captured_at - written_at)::float8 AS seconds FROM m)"
                + " SELECT count(*),"
                + "        percentile_cont(0.50) WITHIN GROUP (ORDER BY seconds),"
                + "        percentile_cont(0.95) WITHIN GROUP (ORDER BY seconds),"
                + "        percentile_cont(0.99) WITHIN GROUP (ORDER BY seconds),"
                + "        max(seconds),"
                + "        extract(epoch FROM max(captured_at) - min(written_at))::float8"
                + "   FROM l";
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setObject(1, from);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                long buffered = rs.getLong(1);
                return new CaptureStats(written, buffered, value(rs, 2), value(rs, 3), value(rs, 4), value(rs, 5),
                        value(rs, 6));
            }
        }
    }

    private static double value(ResultSet rs, int column) throws SQLException {
        double v = rs.getDouble(column);
        return rs.wasNull() ? Double.NaN : v;
    }
}
