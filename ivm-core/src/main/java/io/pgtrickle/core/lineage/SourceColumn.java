package io.pgtrickle.core.lineage;

/** A column of a relation a stream table reads (a table, view or stream table). */
public record SourceColumn(long relid, String schema, String table, String column) {
}
