package io.pgtrickle.core.refresh;

import io.pgtrickle.core.catalog.Catalog;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.error.SqlErrors;
import io.pgtrickle.core.sql.AdvisoryLocks;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refreshes stream tables. Every refresh is one REPEATABLE READ transaction: the MERGE, the new
 * frontier (the transaction's snapshot) and the history row commit together or not at all.
 * A failure is recorded in a transaction of its own, with back-off and, after repeated failures,
 * suspension.
 */
public final class Refresher {
    private static final Logger log = LoggerFactory.getLogger(Refresher.class);

    private final DataSource dataSource;
    private final Catalog catalog;
    private final RetryPolicy retryPolicy;

    public Refresher(DataSource dataSource, Catalog catalog, RetryPolicy retryPolicy) {
        this.dataSource = dataSource;
        this.catalog = catalog;
        this.retryPolicy = retryPolicy;
    }

    /**
     * Refreshes stream table {@code id} now.
     *
     * @throws PgTrickleException {@code REFRESH_FAILED} after recording the failure, or
     *     {@code NOT_FOUND} if the stream table was dropped meanwhile
     */
    public RefreshResult refresh(long id, RefreshTrigger trigger) {
        try (Connection c = dataSource.getConnection()) {
            return AdvisoryLocks.withStreamTableLock(c, id, conn -> refreshLocked(conn, id, trigger));
        } catch (SQLException e) {
            throw SqlErrors.translate("refreshing stream table " + id, e);
        }
    }

    private RefreshResult refreshLocked(Connection c, long id, RefreshTrigger trigger) throws SQLException {
        StreamTableRecord st = catalog.findById(c, id).orElseThrow(() ->
                new PgTrickleException(ErrorCode.NOT_FOUND, "stream table " + id + " no longer exists"));
        OffsetDateTime startedAt = OffsetDateTime.now();
        long start = System.nanoTime();
        try {
            RefreshResult result = Jdbc.inTransaction(c, Connection.TRANSACTION_REPEATABLE_READ,
                    tx -> refreshInTransaction(tx, st, trigger, startedAt));
            log.debug("refreshed {} ({}): +{} -{} in {} ms", st.name(), trigger, result.rowsInserted(),
                    result.rowsDeleted(), (System.nanoTime() - start) / 1_000_000);
            return result;
        } catch (SQLException | RuntimeException e) {
            String message = e instanceof SQLException sql ? SqlErrors.describe(sql) : e.getMessage();
            recordFailure(c, st, trigger, startedAt, message);
            throw new PgTrickleException(ErrorCode.REFRESH_FAILED,
                    "refresh of " + st.name() + " failed: " + message, e);
        }
    }

    /** Refreshes inside the caller's transaction (used by create and alter); no failure bookkeeping. */
    public RefreshResult refreshInTransaction(Connection c, StreamTableRecord st, RefreshTrigger trigger,
                                              OffsetDateTime startedAt) throws SQLException {
        long start = System.nanoTime();
        FullRefresh.Counts counts = FullRefresh.apply(c, st.name(), StorageColumns.of(c, st.relid()), st.query());
        catalog.markRefreshed(c, st.id());
        catalog.recordHistory(c, st, "FULL", trigger.name(), true, startedAt, counts.inserted(), counts.deleted(), null);
        return new RefreshResult(st.name(), "FULL", counts.inserted(), counts.deleted(),
                Duration.ofNanos(System.nanoTime() - start));
    }

    private void recordFailure(Connection c, StreamTableRecord st, RefreshTrigger trigger, OffsetDateTime startedAt,
                               String message) {
        try {
            Jdbc.inTransaction(c, Connection.TRANSACTION_READ_COMMITTED, tx -> {
                int errors = catalog.markFailed(tx, st.id(), message,
                        retryPolicy.backoffAfter(st.consecutiveErrors() + 1).toMillis(), retryPolicy.suspendAfter());
                catalog.recordHistory(tx, st, "FULL", trigger.name(), false, startedAt, 0, 0, message);
                if (errors >= retryPolicy.suspendAfter()) {
                    log.warn("stream table {} suspended after {} consecutive failed refreshes; last error: {}",
                            st.name(), errors, message);
                } else {
                    log.warn("refresh of {} failed ({} in a row): {}", st.name(), errors, message);
                }
                return null;
            });
        } catch (SQLException e) {
            log.error("could not record the failed refresh of {}: {}", st.name(), e.getMessage());
        }
    }
}
