package io.pgtrickle.format;

/**
 * The message format of a forward pipeline: {@code native} (pg_trickle's JSON change) or
 * {@code debezium} (Debezium's change event envelope, for consumers written for Debezium).
 */
public enum FormatName {
    NATIVE, DEBEZIUM
}
