package io.pgtrickle.core.requests;

import io.pgtrickle.core.catalog.Status;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.inbox.Inboxes;
import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.query.SqlText;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Locale;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Carries out the requests that the SQL functions ({@code pgtrickle.create_stream_table} and
 * friends) put into {@code pgtrickle.pgt_requests}, in order, through the Java API, and records
 * each outcome there.
 */
public final class RequestProcessor {
    private static final Logger log = LoggerFactory.getLogger(RequestProcessor.class);

    private final DataSource dataSource;
    private final StreamTables streamTables;
    private final Inboxes inboxes;

    public RequestProcessor(DataSource dataSource, StreamTables streamTables, Inboxes inboxes) {
        this.dataSource = dataSource;
        this.streamTables = streamTables;
        this.inboxes = inboxes;
    }

    /**
     * A request row as registered; {@code interrupted} when an engine died while carrying it out,
     * so it may or may not have taken effect.
     */
    record Request(long id, String kind, String name, String query, String schedule, String refreshMode,
                   String status, boolean cascade, String requestedBy, boolean interrupted, String diamondConsistency) {
    }

    /**
     * Requests left RUNNING by an engine that died are taken up again, marked as interrupted: the
     * work and the request's completion are separate transactions, so a CREATE or DROP may have
     * committed just before the engine died, and must then not fail when carried out again.
     */
    public void recoverInterrupted() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            int n = Jdbc.update(c, "UPDATE pgtrickle.pgt_requests SET state = 'PENDING',"
                    + " args = args || '{\"interrupted\": true}' WHERE state = 'RUNNING'");
            if (n > 0) {
                log.info("re-queued {} request(s) interrupted by an earlier engine stop", n);
            }
        }
    }

    /** Processes every pending request; returns how many were processed. */
    public int processPending() throws SQLException {
        int processed = 0;
        Request r;
        while ((r = claimNext()) != null) {
            String error = null;
            String result = null;
            try {
                result = execute(r);
            } catch (PgTrickleException e) {
                error = e.getMessage();
            } catch (RuntimeException e) {
                error = "internal error: " + e;
                log.error("request {} failed unexpectedly", r.id(), e);
            }
            complete(r.id(), error, result);
            processed++;
        }
        return processed;
    }

    private Request claimNext() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return Jdbc.inTransaction(c, Connection.TRANSACTION_READ_COMMITTED, tx -> {
                try (PreparedStatement ps = tx.prepareStatement("""
                        UPDATE pgtrickle.pgt_requests SET state = 'RUNNING'
                         WHERE request_id = (SELECT request_id FROM pgtrickle.pgt_requests WHERE state = 'PENDING'
                                              ORDER BY request_id LIMIT 1 FOR UPDATE SKIP LOCKED)
                        RETURNING request_id, kind, pgt_name, args ->> 'query', args ->> 'schedule',
                                  args ->> 'refresh_mode', args ->> 'status',
                                  coalesce((args ->> 'cascade')::boolean, false), requested_by::text,
                                  coalesce((args ->> 'interrupted')::boolean, false), args ->> 'diamond_consistency'""");
                     ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        return null;
                    }
                    return new Request(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getString(6), rs.getString(7), rs.getBoolean(8), rs.getString(9),
                            rs.getBoolean(10), rs.getString(11));
                }
            });
        }
    }

    /** Carries out {@code r}; returns its result text (explain analyze), or {@code null}. */
    private String execute(Request r) {
        QualifiedName name = QualifiedName.parse(r.name());
        log.info("request {}: {} {}{}", r.id(), r.kind(), name, r.interrupted() ? " (again: interrupted earlier)" : "");
        if (r.interrupted() && alreadyDone(r, name)) {
            log.info("request {} had taken effect before the engine stopped", r.id());
            return null;
        }
        switch (r.kind()) {
            case "CREATE" -> {
                streamTables.create(StreamTableSpec.parse(r.name(), r.query(), r.schedule(), r.refreshMode()),
                        r.requestedBy());
                setDiamondConsistency(r, name);
            }
            case "CREATE_OR_REPLACE" -> {
                streamTables.createOrReplace(StreamTableSpec.parse(r.name(), r.query(), r.schedule(), r.refreshMode()),
                        r.requestedBy());
                setDiamondConsistency(r, name);
            }
            case "ALTER" -> {
                AlterSpec change = AlterSpec.none();
                if (r.query() != null) {
                    change = change.withQuery(r.query());
                }
                if (r.schedule() != null) {
                    change = change.withSchedule(r.schedule());
                }
                if (r.refreshMode() != null) {
                    change = change.withRefreshMode(r.refreshMode());
                }
                if (r.status() != null) {
                    change = change.withStatus(Status.valueOf(r.status().toUpperCase(Locale.ROOT)));
                }
                if (!change.isEmpty() || r.diamondConsistency() == null) {
                    streamTables.alter(name, change, r.requestedBy());
                }
                setDiamondConsistency(r, name);
            }
            case "DROP" -> streamTables.drop(name, r.cascade());
            case "REFRESH" -> streamTables.refresh(name);
            // Create, drop, or change the ordering of an inbox: its catalog row says what it wants.
            case "INBOX" -> inboxes.reconcile(r.name(), r.requestedBy());
            case "EXPLAIN_ANALYZE" -> {
                return streamTables.explainAnalyze(name).render();
            }
            default -> throw new IllegalStateException("unknown request kind " + r.kind());
        }
        return null;
    }

    private void setDiamondConsistency(Request r, QualifiedName name) {
        if (r.diamondConsistency() != null) {
            streamTables.setDiamondConsistency(name, r.diamondConsistency());
        }
    }

    /**
     * Whether an interrupted CREATE or DROP had committed: the stream table exists with exactly
     * the requested definition, or is gone. (The SQL functions refuse a taken name when the
     * request is made, so an identical stream table is this request's.) The other kinds give the
     * same result when carried out twice.
     */
    private boolean alreadyDone(Request r, QualifiedName name) {
        return switch (r.kind()) {
            case "CREATE" -> {
                StreamTableSpec spec = StreamTableSpec.parse(r.name(), r.query(), r.schedule(), r.refreshMode());
                yield streamTables.find(name).filter(st -> st.query().equals(SqlText.requireSingleStatement(spec.query()))
                        && st.schedule().equals(spec.schedule()) && st.refreshMode() == spec.refreshMode()).isPresent();
            }
            case "DROP" -> streamTables.find(name).isEmpty();
            default -> false;
        };
    }

    private void complete(long id, String error, String result) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            Jdbc.update(c, "UPDATE pgtrickle.pgt_requests SET state = ?, error = ?, result = ?,"
                    + " completed_at = clock_timestamp() WHERE request_id = ?", error == null ? "DONE" : "FAILED",
                    error, result, id);
        }
        if (error != null) {
            log.warn("request {} failed: {}", id, error);
        }
    }
}
