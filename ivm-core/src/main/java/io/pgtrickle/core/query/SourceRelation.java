package io.pgtrickle.core.query;

import io.pgtrickle.core.sql.QualifiedName;

/** A relation a defining query reads. */
public record SourceRelation(long relid, QualifiedName name, Kind kind) {
    public enum Kind { TABLE, STREAM_TABLE, VIEW, MATERIALIZED_VIEW, FOREIGN_TABLE }
}
