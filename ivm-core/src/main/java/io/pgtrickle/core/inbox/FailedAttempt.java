package io.pgtrickle.core.inbox;

/**
 * The state of an event after {@link Inboxes#markFailed}.
 *
 * @param retryCount failed attempts so far
 * @param deadLettered whether the retries are exhausted: the event left {@code <name>_pending} for
 *     {@code <name>_dlq}
 */
public record FailedAttempt(int retryCount, boolean deadLettered) {
}
