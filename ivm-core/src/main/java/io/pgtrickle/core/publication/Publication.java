package io.pgtrickle.core.publication;

import java.util.List;
import java.util.Objects;

/**
 * A stream table published for logical replication.
 *
 * @param streamTable the stream table, qualified
 * @param name the publication, {@code pgt_pub_<name>}
 * @param columns the columns it publishes: the user columns and {@code __pgt_row_id} (the replica
 *     identity); every column when the stream table has REPLICA IDENTITY FULL
 */
public record Publication(String streamTable, String name, List<String> columns) {
    public Publication {
        Objects.requireNonNull(streamTable, "streamTable");
        Objects.requireNonNull(name, "name");
        columns = List.copyOf(columns);
    }
}
