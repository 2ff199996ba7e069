package io.pgtrickle.core.outbox;

import java.time.OffsetDateTime;
import java.util.List;

/**
 * One outbox entry with all its changes: the delta one refresh applied to a stream table.
 *
 * @param refreshId the refresh's {@code pgt_refresh_history.refresh_id}; null for the entry that
 *     {@code enable_outbox} writes with the contents the outbox started from
 * @param fullRefresh whether a FULL refresh (or the starting contents) produced it
 */
public record OutboxDelta(long offset, String streamTable, Long refreshId, OffsetDateTime createdAt, boolean fullRefresh,
                          List<OutboxChange> changes) {
    public OutboxDelta {
        changes = List.copyOf(changes);
    }
}
