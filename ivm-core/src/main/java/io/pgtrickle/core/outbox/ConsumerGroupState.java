package io.pgtrickle.core.outbox;

/** How a consumer group keeps up, as {@code outbox_status}, {@code consumer_lag} and {@code health_check} report it. */
public enum ConsumerGroupState {
    /** Nothing waits, or the oldest pending entry is younger than half the outbox's retention. */
    OK,
    /** Its oldest pending entry is older than half the outbox's retention. */
    BEHIND,
    /** Entries wait and no member has polled, committed or sent a heartbeat for {@link ConsumerGroups#DEAD_AFTER}. */
    DEAD
}
