package io.pgtrickle.core.catalog;

/** The health of a stream table, as the scheduler sees it. */
public enum Status {
    /** Refreshing on schedule. */
    ACTIVE,
    /** The last refresh failed; retried with back-off. */
    ERROR,
    /** Not refreshed by the scheduler until resumed (after repeated errors, or on request). */
    SUSPENDED
}
