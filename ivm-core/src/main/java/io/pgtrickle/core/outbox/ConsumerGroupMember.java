package io.pgtrickle.core.outbox;

import java.time.OffsetDateTime;
import java.util.Objects;

/**
 * A consumer that polled, committed or sent a heartbeat to a group.
 *
 * @param consumer its name
 * @param firstSeenAt its first call
 * @param lastSeenAt its last poll, commit, lease extension or heartbeat
 * @param lastPollAt its last poll, or {@code null} if it only sent heartbeats
 */
public record ConsumerGroupMember(String consumer, OffsetDateTime firstSeenAt, OffsetDateTime lastSeenAt,
                                  OffsetDateTime lastPollAt) {
    public ConsumerGroupMember {
        Objects.requireNonNull(consumer, "consumer");
        Objects.requireNonNull(firstSeenAt, "firstSeenAt");
        Objects.requireNonNull(lastSeenAt, "lastSeenAt");
    }
}
