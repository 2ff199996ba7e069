package io.pgtrickle.core.refresh;

/** What started a refresh; recorded in the refresh history. */
public enum RefreshTrigger { CREATE, ALTER, SCHEDULE, MANUAL }
