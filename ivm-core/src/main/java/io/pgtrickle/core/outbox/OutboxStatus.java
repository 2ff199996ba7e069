package io.pgtrickle.core.outbox;

import java.time.OffsetDateTime;

/** What {@code pgtrickle.outbox_status(name)} reports; offsets and times are null while it is empty. */
public record OutboxStatus(String streamTable, int retentionHours, int inlineThresholdRows, OffsetDateTime enabledAt,
                           long entries, long changes, Long firstOffset, Long lastOffset, OffsetDateTime oldestAt,
                           OffsetDateTime newestAt) {
}
