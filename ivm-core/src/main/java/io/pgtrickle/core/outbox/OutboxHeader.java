package io.pgtrickle.core.outbox;

import java.time.OffsetDateTime;
import java.util.Objects;

/**
 * One outbox entry without its changes, for a reader that pages them with
 * {@link Outboxes#changes(String, long, int, int)} so that a large delta is never held whole.
 *
 * @param refreshId the refresh that wrote it, or {@code null} for the starting contents
 * @param fullRefresh whether a FULL refresh (or the starting contents) produced it
 * @param rowCount changes in the entry; their row indexes run from 0 to {@code rowCount - 1}
 */
public record OutboxHeader(long offset, String streamTable, Long refreshId, OffsetDateTime createdAt, boolean fullRefresh,
                           long rowCount) {
    public OutboxHeader {
        Objects.requireNonNull(streamTable, "streamTable");
        Objects.requireNonNull(createdAt, "createdAt");
    }
}
