package io.pgtrickle.cli;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * What the catalog's monitoring functions say about change capture and the engine:
 * {@code change_buffer_sizes()}, {@code slot_health()} and {@code engine_running()}.
 */
final class CaptureHealth {
    private CaptureHealth() {
    }

    /** One row of {@code pgtrickle.change_buffer_sizes()}; the oldest change is null for an empty buffer. */
    record Buffer(String source, String cdcMode, String bufferTable, long pendingRows, long bufferBytes,
                  OffsetDateTime oldestChangeAt) {
    }

    /** The row of {@code pgtrickle.slot_health()}; WAL status, byte counts and last event are nullable. */
    record Slot(String name, boolean active, String walStatus, Long retainedWalBytes, Long lagBytes,
                OffsetDateTime lastEventAt) {
    }

    static List<Buffer> buffers(Connection c) throws SQLException {
        List<Buffer> buffers = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT source, cdc_mode, buffer_table,"
                + " pending_rows, buffer_bytes, oldest_change_at FROM pgtrickle.change_buffer_sizes()")) {
            while (rs.next()) {
                buffers.add(new Buffer(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5),
                        rs.getObject(6, OffsetDateTime.class)));
            }
        }
        return buffers;
    }

    static Optional<Slot> slot(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT slot_name, active, wal_status,"
                + " retained_wal_bytes, lag_bytes, last_event_at FROM pgtrickle.slot_health()")) {
            if (!rs.next()) {
                return Optional.empty();
            }
            return Optional.of(new Slot(rs.getString(1), rs.getBoolean(2), rs.getString(3), bytes(rs, 4), bytes(rs, 5),
                    rs.getObject(6, OffsetDateTime.class)));
        }
    }

    /** The slot the catalog names for WAL capture, whether or not it exists; null when WAL capture never ran. */
    static String recordedSlotName(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT slot_name FROM pgtrickle.pgt_capture_state");
             ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** Whether an engine owns the database (holds its advisory lock), so stream tables refresh on schedule. */
    static boolean engineRunning(DataSource dataSource) {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT pgtrickle.engine_running()")) {
            rs.next();
            return rs.getBoolean(1);
        } catch (SQLException e) {
            throw new PgTrickleException(ErrorCode.INTERNAL, "cannot tell whether an engine is running: "
                    + e.getMessage(), e);
        }
    }

    private static Long bytes(ResultSet rs, int column) throws SQLException {
        BigDecimal value = rs.getBigDecimal(column);
        return value == null ? null : value.longValue();
    }
}
