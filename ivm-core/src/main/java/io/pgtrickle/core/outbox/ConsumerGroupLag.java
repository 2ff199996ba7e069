package io.pgtrickle.core.outbox;

import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Objects;

/**
 * Where a consumer group stands ({@code pgtrickle.consumer_lag}).
 *
 * @param group the group
 * @param outbox the stream table whose outbox it reads
 * @param committedOffset every entry at or below it is done
 * @param newestOffset the newest entry the outbox has had (0 before the first)
 * @param entriesPending entries after the committed offset
 * @param changesPending row changes in those entries
 * @param oldestPendingAt when the oldest pending entry was written, or {@code null} when none waits
 * @param oldestPendingAge its age, or {@code null}
 * @param leaseConsumer the consumer holding the lease, or {@code null}; the lease may have expired
 *     ({@link #leaseExpiresAt} in the past), then the next poll re-offers it
 * @param leaseLastOffset the last offset leased, or {@code null}
 * @param leaseExpiresAt when the lease ends, or {@code null}
 * @param consumers the members with their last heartbeat, by name
 * @param state OK, BEHIND or DEAD
 */
public record ConsumerGroupLag(String group, String outbox, long committedOffset, long newestOffset, long entriesPending,
                               long changesPending, OffsetDateTime oldestPendingAt, Duration oldestPendingAge,
                               String leaseConsumer, Long leaseLastOffset, OffsetDateTime leaseExpiresAt,
                               List<ConsumerGroupMember> consumers, ConsumerGroupState state) {
    public ConsumerGroupLag {
        Objects.requireNonNull(group, "group");
        Objects.requireNonNull(outbox, "outbox");
        consumers = List.copyOf(Objects.requireNonNull(consumers, "consumers"));
        Objects.requireNonNull(state, "state");
    }
}
