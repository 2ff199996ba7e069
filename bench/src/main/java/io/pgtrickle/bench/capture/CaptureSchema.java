package io.pgtrickle.bench.capture;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.OffsetDateTime;

/**
 * The benchmark's objects and the SQL that reads them: the table {@value #TABLE} the writers fill,
 * and its change buffer, which the engine names in {@code pgtrickle.pgt_change_sources}. All
 * times come from the database's clock, so the JVM's clock never meets the server's.
 */
public final class CaptureSchema {
    public static final String TABLE = "bench_events";
    public static final String STREAM_TABLE = "bench_events_st";
    public static final String DEFINING_QUERY = "SELECT id, payload, written_at FROM " + TABLE;

    /** One transaction of {@code batch} rows; its one parameter is the rows' payload text. */
    public static String insert(int batch) {
        return batch == 1 ? "INSERT INTO " + TABLE + " (payload) VALUES (?)"
                : "INSERT INTO " + TABLE + " (payload) SELECT ? FROM generate_series(1, " + batch + ")";
    }

    /** Marks the table as the benchmark's, so a later run may drop what an interrupted one left. */
    static final String MARKER = "pgtrickle bench capture";

    private CaptureSchema() {
    }

    /** Whether {@value #TABLE} exists, and whether it is one the benchmark made. */
    public enum Existing { NONE, OURS, FOREIGN }

    public static Existing existing(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT obj_description(to_regclass(?), 'pg_class'),"
                + " to_regclass(?) IS NOT NULL")) {
            ps.setString(1, "public." + TABLE);
            ps.setString(2, "public." + TABLE);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (!rs.getBoolean(2)) {
                    return Existing.NONE;
                }
                return MARKER.equals(rs.getString(1)) ? Existing.OURS : Existing.FOREIGN;
            }
        }
    }

    /** Creates the table; the clock_timestamp() default stamps each row when its INSERT runs. */
    public static void createTable(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE public." + TABLE + " (id bigserial PRIMARY KEY, payload text NOT NULL,"
                    + " written_at timestamptz NOT NULL DEFAULT clock_timestamp())");
            s.execute("COMMENT ON TABLE public." + TABLE + " IS '" + MARKER + "'");
        }
    }

    public static void dropTable(Connection c) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS public." + TABLE);
        }
    }

    /** The change buffer of {@value #TABLE}, schema-qualified and quoted. */
    public static String bufferTable(Connection c) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT 'pgtrickle_changes.' || quote_ident(buffer_table)"
                + " FROM pgtrickle.pgt_change_sources WHERE source_relid = to_regclass(?)")) {
            ps.setString(1, "public." + TABLE);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new IllegalStateException(TABLE + " is not tracked: no change buffer");
                }
                return rs.getString(1);
            }
        }
    }

    /** The database's clock now. */
    public static OffsetDateTime now(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT clock_timestamp()")) {
            rs.next();
            return rs.getObject(1, OffsetDateTime.class);
        }
    }

    /** Rows in the table: every committed insert. */
    public static long rowsWritten(Connection c) throws SQLException {
        return count(c, "SELECT count(*) FROM public." + TABLE);
    }

    /** Inserts the buffer holds (weight +1 rows). */
    public static long rowsBuffered(Connection c, String buffer) throws SQLException {
        return count(c, "SELECT count(*) FROM " + buffer + " WHERE weight = 1");
    }

    /** When the buffer received its latest row (the database's clock); null when it is empty. */
    public static OffsetDateTime lastCapturedAt(Connection c, String buffer) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT max(captured_at) FROM " + buffer)) {
            rs.next();
            return rs.getObject(1, OffsetDateTime.class);
        }
    }

    private static long count(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
