package io.pgtrickle.core.catalog;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.lifecycle.RefreshMode;
import io.pgtrickle.core.query.SourceFunction;
import io.pgtrickle.core.query.SourceRelation;
import io.pgtrickle.core.schedule.Schedule;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** Reads and writes the catalog tables; every method runs inside the caller's transaction. */
public final class Catalog {
    private static final String SELECT = """
            SELECT pgt_id, pgt_schema, pgt_name, pgt_relid, defining_query, schedule, refresh_mode,
                   effective_mode, mode_reason, status, consecutive_errors, last_error, data_timestamp,
                   last_refresh_at, next_attempt_at, frontier::text AS frontier
              FROM pgtrickle.pgt_stream_tables""";

    public Optional<StreamTableRecord> find(Connection c, QualifiedName name) throws SQLException {
        List<StreamTableRecord> found = list(c, SELECT + " WHERE pgt_schema = ? AND pgt_name = ?",
                name.schema(), name.name());
        return found.stream().findFirst();
    }

    public StreamTableRecord require(Connection c, QualifiedName name) throws SQLException {
        return find(c, name).orElseThrow(() -> new PgTrickleException(ErrorCode.NOT_FOUND,
                "stream table " + name + " does not exist"));
    }

    public Optional<StreamTableRecord> findById(Connection c, long id) throws SQLException {
        return list(c, SELECT + " WHERE pgt_id = ?", id).stream().findFirst();
    }

    public List<StreamTableRecord> all(Connection c) throws SQLException {
        return list(c, SELECT + " ORDER BY pgt_schema, pgt_name");
    }

    public Set<Long> streamTableRelids(Connection c) throws SQLException {
        Set<Long> relids = new HashSet<>();
        try (PreparedStatement ps = c.prepareStatement("SELECT pgt_relid::bigint FROM pgtrickle.pgt_stream_tables");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                relids.add(rs.getLong(1));
            }
        }
        return relids;
    }

    /** For each stream table id, the ids of the stream tables it reads. */
    public Map<Long, Set<Long>> upstreamStreamTables(Connection c) throws SQLException {
        Map<Long, Set<Long>> upstream = new HashMap<>();
        String sql = """
                SELECT d.pgt_id, src.pgt_id
                  FROM pgtrickle.pgt_dependencies d
                  JOIN pgtrickle.pgt_stream_tables src ON src.pgt_relid = d.source_relid""";
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                upstream.computeIfAbsent(rs.getLong(1), k -> new LinkedHashSet<>()).add(rs.getLong(2));
            }
        }
        return upstream;
    }

    /** The stream tables that read the relation {@code relid}. */
    public List<StreamTableRecord> readersOf(Connection c, long relid) throws SQLException {
        return list(c, SELECT + " WHERE pgt_id IN (SELECT pgt_id FROM pgtrickle.pgt_dependencies"
                + " WHERE source_relid = ?) ORDER BY pgt_schema, pgt_name", relid);
    }

    public List<SourceRelation> sources(Connection c, long id) throws SQLException {
        List<SourceRelation> sources = new ArrayList<>();
        try (PreparedStatement ps = Jdbc.prepare(c, "SELECT source_relid::bigint, source_schema, source_name,"
                + " source_kind FROM pgtrickle.pgt_dependencies WHERE pgt_id = ? ORDER BY 2, 3", id);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                sources.add(new SourceRelation(rs.getLong(1), new QualifiedName(rs.getString(2), rs.getString(3)),
                        SourceRelation.Kind.valueOf(rs.getString(4))));
            }
        }
        return sources;
    }

    public long insert(Connection c, QualifiedName name, long relid, String query, Schedule schedule,
                       RefreshMode refreshMode, RefreshMode effectiveMode, String modeReason) throws SQLException {
        return Jdbc.queryValue(c, Long.class, """
                INSERT INTO pgtrickle.pgt_stream_tables
                    (pgt_schema, pgt_name, pgt_relid, defining_query, schedule, refresh_mode, effective_mode, mode_reason)
                VALUES (?, ?, ?::oid, ?, ?, ?, ?, ?) RETURNING pgt_id""",
                name.schema(), name.name(), relid, query, scheduleText(schedule), refreshMode.name(),
                effectiveMode.name(), modeReason);
    }

    public void replaceDependencies(Connection c, long id, List<SourceRelation> sources) throws SQLException {
        Jdbc.update(c, "DELETE FROM pgtrickle.pgt_dependencies WHERE pgt_id = ?", id);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO pgtrickle.pgt_dependencies"
                + " (pgt_id, source_relid, source_schema, source_name, source_kind) VALUES (?, ?::oid, ?, ?, ?)")) {
            for (SourceRelation s : sources) {
                ps.setLong(1, id);
                ps.setLong(2, s.relid());
                ps.setString(3, s.name().schema());
                ps.setString(4, s.name().name());
                ps.setString(5, s.kind().name());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** Records the user-defined functions a stream table's query calls (see {@link SourceFunction}). */
    public void replaceFunctionDependencies(Connection c, long id, List<SourceFunction> functions) throws SQLException {
        Jdbc.update(c, "DELETE FROM pgtrickle.pgt_function_dependencies WHERE pgt_id = ?", id);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO pgtrickle.pgt_function_dependencies"
                + " (pgt_id, function_oid, signature) VALUES (?, ?::oid, ?)")) {
            for (SourceFunction f : functions) {
                ps.setLong(1, id);
                ps.setLong(2, f.oid());
                ps.setString(3, f.signature());
                ps.addBatch();
            }
            ps.executeBatch();
        }
    }

    /** The stream tables whose query calls the function {@code oid}. */
    public List<StreamTableRecord> readersOfFunction(Connection c, long oid) throws SQLException {
        return list(c, SELECT + " WHERE pgt_id IN (SELECT pgt_id FROM pgtrickle.pgt_function_dependencies"
                + " WHERE function_oid = ?::oid) ORDER BY pgt_schema, pgt_name", oid);
    }

    public void updateDefinition(Connection c, long id, String query, RefreshMode refreshMode,
                                 RefreshMode effectiveMode, String modeReason) throws SQLException {
        Jdbc.update(c, "UPDATE pgtrickle.pgt_stream_tables SET defining_query = ?, refresh_mode = ?,"
                + " effective_mode = ?, mode_reason = ?, explanation = NULL, updated_at = now() WHERE pgt_id = ?",
                query, refreshMode.name(), effectiveMode.name(), modeReason, id);
    }

    /** Stores the rendered explanation that {@code pgtrickle.explain_stream_table} returns. */
    public void storeExplanation(Connection c, long id, String explanation) throws SQLException {
        Jdbc.update(c, "UPDATE pgtrickle.pgt_stream_tables SET explanation = ? WHERE pgt_id = ?", explanation, id);
    }

    public void updateSchedule(Connection c, long id, Schedule schedule) throws SQLException {
        Jdbc.update(c, "UPDATE pgtrickle.pgt_stream_tables SET schedule = ?, updated_at = now() WHERE pgt_id = ?",
                scheduleText(schedule), id);
    }

    public void updateStatus(Connection c, long id, Status status) throws SQLException {
        Jdbc.update(c, "UPDATE pgtrickle.pgt_stream_tables SET status = ?, consecutive_errors = CASE WHEN ? = 'ACTIVE'"
                + " THEN 0 ELSE consecutive_errors END, next_attempt_at = NULL, updated_at = now() WHERE pgt_id = ?",
                status.name(), status.name(), id);
    }

    public void delete(Connection c, long id) throws SQLException {
        Jdbc.update(c, "DELETE FROM pgtrickle.pgt_stream_tables WHERE pgt_id = ?", id);
    }

    /** Records a successful refresh: the new frontier is the transaction's own snapshot. */
    public void markRefreshed(Connection c, long id) throws SQLException {
        Jdbc.update(c, MARK_REFRESHED, id);
    }

    /** What {@link #markRefreshed} runs; one parameter, the stream table id (for a statement that does more). */
    public static final String MARK_REFRESHED = """
            UPDATE pgtrickle.pgt_stream_tables
               SET frontier = pg_current_snapshot(), data_timestamp = now(), last_refresh_at = now(),
                   consecutive_errors = 0, last_error = NULL, last_error_at = NULL, next_attempt_at = NULL,
                   status = CASE WHEN status = 'ERROR' THEN 'ACTIVE' ELSE status END
             WHERE pgt_id = ?""";

    /**
     * Records a failed refresh and returns the new consecutive error count; the stream table is
     * suspended once the count reaches {@code suspendAfter}.
     */
    public int markFailed(Connection c, long id, String error, long backoffMillis, int suspendAfter)
            throws SQLException {
        Integer errors = Jdbc.queryValue(c, Integer.class, """
                UPDATE pgtrickle.pgt_stream_tables
                   SET consecutive_errors = consecutive_errors + 1, last_error = ?, last_error_at = clock_timestamp(),
                       next_attempt_at = clock_timestamp() + make_interval(secs => ? / 1000.0),
                       status = CASE WHEN status = 'SUSPENDED' OR consecutive_errors + 1 >= ? THEN 'SUSPENDED'
                                     ELSE 'ERROR' END
                 WHERE pgt_id = ? RETURNING consecutive_errors""", error, backoffMillis, suspendAfter, id);
        return errors == null ? 0 : errors;
    }

    /** Puts a stream table into ERROR (it stays SUSPENDED if it is) without counting a refresh attempt. */
    public void markBroken(Connection c, long id, String error) throws SQLException {
        Jdbc.update(c, """
                UPDATE pgtrickle.pgt_stream_tables
                   SET last_error = ?, last_error_at = clock_timestamp(), next_attempt_at = NULL,
                       status = CASE WHEN status = 'SUSPENDED' THEN 'SUSPENDED' ELSE 'ERROR' END
                 WHERE pgt_id = ?""", error, id);
    }

    /** Appends to the refresh history; {@code windowRows} is null when no change window was read. */
    public long recordHistory(Connection c, StreamTableRecord st, String action, String trigger, boolean success,
                              OffsetDateTime startedAt, long inserted, long deleted, Long windowRows, String error)
            throws SQLException {
        return recordHistory(c, st, action, trigger, success, startedAt, inserted, deleted, windowRows, error, null);
    }

    /**
     * As above, with the milliseconds per phase of the refresh as a JSON object (or null).
     *
     * @return the history row's {@code refresh_id}
     */
    public long recordHistory(Connection c, StreamTableRecord st, String action, String trigger, boolean success,
                              OffsetDateTime startedAt, long inserted, long deleted, Long windowRows, String error,
                              String phaseMsJson) throws SQLException {
        return Jdbc.queryValue(c, Long.class, historyInsert("?::jsonb"), historyParameters(st, action, trigger, success,
                startedAt, inserted, deleted, windowRows, error, phaseMsJson));
    }

    /**
     * The INSERT of {@link #recordHistory} with {@code phaseMs} as the SQL of its {@code phase_ms}
     * (taking the last parameter), returning {@code refresh_id}: for a caller that sends it with others.
     */
    public static String historyInsert(String phaseMs) {
        return """
                INSERT INTO pgtrickle.pgt_refresh_history
                    (pgt_id, pgt_schema, pgt_name, action, trigger, status, started_at, finished_at,
                     rows_inserted, rows_deleted, window_rows, error, phase_ms)
                VALUES (?, ?, ?, ?, ?, ?, ?, clock_timestamp(), ?, ?, ?, ?, %s)
                RETURNING refresh_id""".formatted(phaseMs);
    }

    /** The parameters of {@link #historyInsert}, in order. */
    public static Object[] historyParameters(StreamTableRecord st, String action, String trigger, boolean success,
                                             OffsetDateTime startedAt, long inserted, long deleted, Long windowRows,
                                             String error, String phaseMsJson) {
        return new Object[] {st.id(), st.name().schema(), st.name().name(), action, trigger,
                success ? "SUCCESS" : "FAILED", startedAt, success ? inserted : null, success ? deleted : null,
                windowRows, error, phaseMsJson};
    }

    private static String scheduleText(Schedule schedule) {
        return schedule instanceof Schedule.Calculated ? null : schedule.text();
    }

    /**
     * Records the output columns that identify a row of the stream table (the outbox's key), or
     * {@code null} when its rows are identified by their row id.
     */
    public void storeRowKey(Connection c, long id, List<String> rowKey) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("UPDATE pgtrickle.pgt_stream_tables SET row_key = ? WHERE pgt_id = ?"
                + " AND row_key IS DISTINCT FROM ?")) {
            java.sql.Array key = rowKey == null ? null : c.createArrayOf("text", rowKey.toArray());
            ps.setArray(1, key);
            ps.setLong(2, id);
            ps.setArray(3, key);
            ps.executeUpdate();
        }
    }

    /** The query of {@link #findById}; one parameter, the id (for a caller that sends it with others). */
    public static final String SELECT_BY_ID = SELECT + " WHERE pgt_id = ?";

    /** The stream table on the current row of a result of {@link #SELECT_BY_ID}. */
    public static StreamTableRecord record(ResultSet rs) throws SQLException {
        return new StreamTableRecord(
                rs.getLong("pgt_id"),
                new QualifiedName(rs.getString("pgt_schema"), rs.getString("pgt_name")),
                rs.getLong("pgt_relid"),
                rs.getString("defining_query"),
                Schedule.parse(rs.getString("schedule")),
                RefreshMode.valueOf(rs.getString("refresh_mode")),
                RefreshMode.valueOf(rs.getString("effective_mode")),
                rs.getString("mode_reason"),
                Status.valueOf(rs.getString("status")),
                rs.getInt("consecutive_errors"),
                rs.getString("last_error"),
                rs.getObject("data_timestamp", OffsetDateTime.class),
                rs.getObject("last_refresh_at", OffsetDateTime.class),
                rs.getObject("next_attempt_at", OffsetDateTime.class),
                rs.getString("frontier"));
    }

    private static List<StreamTableRecord> list(Connection c, String sql, Object... parameters) throws SQLException {
        List<StreamTableRecord> records = new ArrayList<>();
        try (PreparedStatement ps = Jdbc.prepare(c, sql, parameters); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                records.add(record(rs));
            }
        }
        return records;
    }
}
