package io.pgtrickle.bench;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/** The few JDBC calls the benchmarks repeat. */
public final class Sql {
    private Sql() {
    }

    public static void execute(Connection c, String... statements) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    /** The first column of the first row, or {@code null} when there is none. */
    public static <T> T value(Connection c, Class<T> type, String sql, Object... parameters) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                ps.setObject(i + 1, parameters[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getObject(1, type) : null;
            }
        }
    }

    /** {@code SELECT version()} shortened: {@code PostgreSQL 18.1 (fsync on, synchronous_commit on, ...)}. */
    public static String serverDescription(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT current_setting('server_version'),"
                + " current_setting('fsync'), current_setting('synchronous_commit'), current_setting('wal_level'),"
                + " current_setting('shared_buffers'), current_setting('work_mem')")) {
            rs.next();
            return "PostgreSQL " + rs.getString(1).replaceAll("\\s.*", "") + " (fsync " + rs.getString(2)
                    + ", synchronous_commit " + rs.getString(3) + ", wal_level " + rs.getString(4)
                    + ", shared_buffers " + rs.getString(5) + ", work_mem " + rs.getString(6) + ")";
        }
    }
}
