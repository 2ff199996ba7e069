package io.pgtrickle.core.lifecycle;

import java.time.Duration;
import java.time.OffsetDateTime;

/**
 * One row of {@code pgtrickle.pgt_status()}. Nullable: data timestamp, staleness, errors, reason,
 * and cdc mode (WAL, TRIGGER, MIXED or NONE) for a failed create.
 */
public record StatusRow(String name, String status, String refreshMode, String effectiveMode, String schedule,
                        OffsetDateTime dataTimestamp, Duration staleness, Integer consecutiveErrors,
                        String lastError, String modeReason, String cdcMode) {
}
