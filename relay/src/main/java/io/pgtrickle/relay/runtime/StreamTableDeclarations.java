package io.pgtrickle.relay.runtime;

import io.pgtrickle.relay.config.StreamTableConfig;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the {@code [[stream_table]]} declarations at start, idempotently: each is created or
 * brought to its query, schedule and mode through the SQL API (so it works whether this relay hosts
 * the engine or another process does), then its outbox is enabled unless it already is.
 */
final class StreamTableDeclarations {
    private static final Logger log = LoggerFactory.getLogger(StreamTableDeclarations.class);

    private StreamTableDeclarations() {
    }

    /**
     * Applies each declaration; one that fails (a source table not created yet, a query error) is
     * logged with its reason and returned, and the others still apply: the relay tries the failed
     * ones again later, and their pipelines retry until the stream table exists.
     */
    static List<StreamTableConfig> apply(DataSource dataSource, List<StreamTableConfig> declarations) {
        List<StreamTableConfig> failed = new java.util.ArrayList<>();
        for (StreamTableConfig st : declarations) {
            try {
                applyOne(dataSource, st);
            } catch (SQLException e) {
                log.error("{}; trying again every {} s", e.getMessage(), RETRY.toSeconds());
                failed.add(st);
            }
        }
        return failed;
    }

    static final java.time.Duration RETRY = java.time.Duration.ofSeconds(5);

    private static void applyOne(DataSource dataSource, StreamTableConfig st) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            long request;
            try (PreparedStatement ps = c.prepareStatement(
                    "SELECT pgtrickle.create_or_replace_stream_table(?, ?, ?, ?)")) {
                ps.setString(1, st.name());
                ps.setString(2, st.query());
                ps.setString(3, st.schedule());
                ps.setString(4, st.refreshMode());
                request = single(ps).getLong(1);
            }
            String outcome;
            try (PreparedStatement ps = c.prepareStatement("SELECT pgtrickle.await_request(?, '2 minutes')")) {
                ps.setLong(1, request);
                outcome = single(ps).getString(1);
            }
            boolean hasOutbox;
            try (PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT 1 FROM pgtrickle.pgt_outbox_config x"
                    + " JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = x.pgt_id"
                    + " WHERE s.pgt_id = pgtrickle._stream_table_id(pgtrickle._canonical_name(?)))")) {
                ps.setString(1, st.name());
                hasOutbox = single(ps).getBoolean(1);
            }
            if (!hasOutbox) {
                try (PreparedStatement ps = c.prepareStatement("SELECT pgtrickle.enable_outbox(?, ?, ?)")) {
                    ps.setString(1, st.name());
                    ps.setInt(2, st.retentionHours());
                    ps.setInt(3, st.inlineThresholdRows());
                    ps.execute();
                }
            }
            log.info("stream table {}: {}{}", st.name(), outcome, hasOutbox ? "" : ", outbox enabled");
        } catch (SQLException e) {
            throw new SQLException("[[stream_table]] " + st.name() + ": " + e.getMessage(), e.getSQLState(), e);
        }
    }

    private static ResultSet single(PreparedStatement ps) throws SQLException {
        ResultSet rs = ps.executeQuery();
        rs.next();
        return rs;
    }
}
