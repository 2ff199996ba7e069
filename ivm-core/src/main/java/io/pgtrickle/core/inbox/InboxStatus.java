package io.pgtrickle.core.inbox;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Objects;

/**
 * One row of {@code pgtrickle.inbox_status(name)}: the settings, the counts (from the table itself)
 * and the stream tables. Nullable: the ordering columns (no ordering), the counts (the table is
 * gone), {@code oldestPendingAt} (nothing pending) and {@code retentionRunAt} (no pass yet).
 *
 * @param inbox the inbox's name
 * @param table its table, qualified and quoted as needed
 * @param state {@code ACTIVE}, or {@code DROPPING} until the engine has dropped it
 * @param streamTables the stream tables the engine made for it
 * @param missingStreamTables those it should have and does not have yet (their request is pending)
 */
public record InboxStatus(String inbox, String table, String state, int maxRetries, boolean withDeadLetter,
                          boolean withStats, int retentionHours, String schedule, String aggregateIdColumn,
                          String sequenceColumn, Long total, Long pending, Long failed, Long deadLettered,
                          Long processed, OffsetDateTime oldestPendingAt, List<String> streamTables,
                          List<String> missingStreamTables, OffsetDateTime retentionRunAt, long rowsExpired) {
    public InboxStatus {
        Objects.requireNonNull(inbox, "inbox");
        streamTables = List.copyOf(streamTables);
        missingStreamTables = List.copyOf(missingStreamTables);
    }

    /** Whether every stream table the inbox should have exists. */
    public boolean ready() {
        return "ACTIVE".equals(state) && missingStreamTables.isEmpty();
    }
}
