package io.pgtrickle.relay.config;

/** {@code forward}: outbox to a target; {@code reverse}: a source to an inbox. */
public enum Direction {
    FORWARD, REVERSE
}
