package io.pgtrickle.cli;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;

/**
 * Waits, by reading {@code pgtrickle.pgt_refresh_history}, until the scheduler has carried a
 * change through a chain of stream tables: the first must have a successful refresh that started
 * after the change committed, each following one a refresh that started after the previous
 * one's finished. Only then does every layer reflect the change. A layer none of whose sources
 * changed is not refreshed: the scheduler confirms it current instead (its frontier and
 * {@code last_refresh_at} move, without a history row), which counts too.
 */
final class CascadeWatch {
    private static final Duration POLL = Duration.ofMillis(50);
    private static final String NEXT_REFRESH = """
            SELECT status, started_at, finished_at, error
              FROM pgtrickle.pgt_refresh_history
             WHERE pgt_schema = ? AND pgt_name = ? AND trigger = 'SCHEDULE' AND started_at > ?
             ORDER BY started_at, refresh_id
             LIMIT 1""";
    private static final String CONFIRMED = """
            SELECT last_refresh_at FROM pgtrickle.pgt_stream_tables
             WHERE pgt_schema = ? AND pgt_name = ? AND last_refresh_at > ?""";

    /** One refresh of the cascade. */
    record Refresh(QualifiedName name, OffsetDateTime startedAt, OffsetDateTime finishedAt) {
    }

    private CascadeWatch() {
    }

    /**
     * The refreshes that carried a change committed at {@code committed} through {@code chain}
     * (upstream first).
     *
     * @throws PgTrickleException {@code REFRESH_FAILED} when one of them fails, or when the
     *     cascade has not completed within {@code timeout}
     */
    static List<Refresh> await(Connection c, List<QualifiedName> chain, Instant committed, Duration timeout)
            throws SQLException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        OffsetDateTime after = committed.atOffset(ZoneOffset.UTC);
        List<Refresh> refreshes = new ArrayList<>();
        for (QualifiedName name : chain) {
            Refresh r = awaitRefresh(c, name, after, deadline, timeout);
            refreshes.add(r);
            after = r.finishedAt();
        }
        return refreshes;
    }

    /** When the scheduler confirmed {@code name} current (nothing it reads changed) after {@code after}, or null. */
    private static OffsetDateTime confirmedAfter(Connection c, QualifiedName name, OffsetDateTime after) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(CONFIRMED)) {
            ps.setString(1, name.schema());
            ps.setString(2, name.name());
            ps.setObject(3, after);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getObject(1, OffsetDateTime.class) : null;
            }
        }
    }

    private static Refresh awaitRefresh(Connection c, QualifiedName name, OffsetDateTime after, long deadline,
                                        Duration timeout) throws SQLException, InterruptedException {
        try (PreparedStatement ps = c.prepareStatement(NEXT_REFRESH)) {
            ps.setString(1, name.schema());
            ps.setString(2, name.name());
            ps.setObject(3, after);
            while (true) {
                try (ResultSet rs = ps.executeQuery()) {
                    if (rs.next()) {
                        if (!"SUCCESS".equals(rs.getString("status"))) {
                            throw new PgTrickleException(ErrorCode.REFRESH_FAILED, "the scheduled refresh of " + name
                                    + " failed: " + rs.getString("error"));
                        }
                        return new Refresh(name, rs.getObject("started_at", OffsetDateTime.class),
                                rs.getObject("finished_at", OffsetDateTime.class));
                    }
                }
                OffsetDateTime confirmed = confirmedAfter(c, name, after);
                if (confirmed != null) {
                    return new Refresh(name, confirmed, confirmed);
                }
                if (System.nanoTime() > deadline) {
                    throw new PgTrickleException(ErrorCode.REFRESH_FAILED, name + " was not refreshed within "
                            + Formats.seconds(timeout) + " of the change; is the engine's scheduler running?");
                }
                Thread.sleep(POLL.toMillis());
            }
        }
    }
}
