package io.pgtrickle.connect.source;

import java.util.Objects;
import org.apache.kafka.connect.data.Schema;

/** A column of a stream table's storage: its name, its PostgreSQL type, its Connect schema. */
record Column(String name, String pgType, Schema schema) {
    Column {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(pgType, "pgType");
        Objects.requireNonNull(schema, "schema");
    }

    static Column of(String name, String pgType) {
        return new Column(name, pgType, ColumnSchemas.of(pgType));
    }
}
