package io.pgtrickle.core.lineage;

import java.util.List;

/** A relation named in a FROM clause, as the catalog knows it: its user-visible columns in order. */
record Relation(long relid, String schema, String table, List<String> columns) {
    Relation {
        columns = List.copyOf(columns);
    }
}
