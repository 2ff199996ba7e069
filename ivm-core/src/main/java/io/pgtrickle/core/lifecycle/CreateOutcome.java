package io.pgtrickle.core.lifecycle;

/** What {@code createOrReplace} did. */
public enum CreateOutcome { CREATED, REPLACED, UNCHANGED }
