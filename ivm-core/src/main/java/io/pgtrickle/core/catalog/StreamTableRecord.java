package io.pgtrickle.core.catalog;

import io.pgtrickle.core.lifecycle.RefreshMode;
import io.pgtrickle.core.schedule.Schedule;
import io.pgtrickle.core.sql.QualifiedName;
import java.time.OffsetDateTime;

/**
 * One row of {@code pgtrickle.pgt_stream_tables}. Nullable: mode reason, last error, timestamps, and
 * the frontier (the {@code pg_snapshot} text the contents were computed at).
 */
public record StreamTableRecord(
        long id,
        QualifiedName name,
        long relid,
        String query,
        Schedule schedule,
        RefreshMode refreshMode,
        RefreshMode effectiveMode,
        String modeReason,
        Status status,
        int consecutiveErrors,
        String lastError,
        OffsetDateTime dataTimestamp,
        OffsetDateTime lastRefreshAt,
        OffsetDateTime nextAttemptAt,
        String frontier) {
}
