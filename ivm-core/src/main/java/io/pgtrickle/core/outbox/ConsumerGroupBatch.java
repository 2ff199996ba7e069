package io.pgtrickle.core.outbox;

import java.time.OffsetDateTime;
import java.util.List;
import java.util.Objects;

/**
 * What one poll gave a consumer: entries in offset order, leased to it until
 * {@code leaseExpiresAt}.
 *
 * @param entries the entries; empty when there is nothing new or another member holds the lease
 * @param leaseExpiresAt when the lease ends unless extended or committed; {@code null} when empty
 */
public record ConsumerGroupBatch(List<OutboxEntry> entries, OffsetDateTime leaseExpiresAt) {
    public ConsumerGroupBatch {
        entries = List.copyOf(Objects.requireNonNull(entries, "entries"));
        if (entries.isEmpty() != (leaseExpiresAt == null)) {
            throw new IllegalArgumentException("a batch has a lease expiry exactly when it has entries");
        }
    }

    public boolean isEmpty() {
        return entries.isEmpty();
    }

    /** The offset to commit once every entry is processed. */
    public long lastOffset() {
        if (entries.isEmpty()) {
            throw new IllegalStateException("an empty batch has no offset to commit");
        }
        return entries.get(entries.size() - 1).offset();
    }
}
