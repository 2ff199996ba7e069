package io.pgtrickle.connect.source;

import java.util.List;
import java.util.Objects;

/**
 * A stream table as the catalog names it.
 *
 * @param schema its schema, unquoted
 * @param name its name, unquoted
 * @param hasOutbox whether {@code enable_outbox} was called for it
 */
public record StreamTable(String schema, String name, boolean hasOutbox) implements Comparable<StreamTable> {
    public StreamTable {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(name, "name");
    }

    /** {@code schema.name} unquoted: the source partition, the {@code {stream_table}} of topics, what patterns match. */
    public String id() {
        return schema + "." + name;
    }

    /** {@code schema.name} quoted as an SQL identifier, the form the outbox functions parse. */
    public String sqlName() {
        return quote(schema) + "." + quote(name);
    }

    /** Parses {@link #id()}: the part before the first dot is the schema. */
    public static StreamTable ofId(String id) {
        int dot = id.indexOf('.');
        if (dot <= 0) {
            throw new IllegalArgumentException("not schema.name: " + id);
        }
        return new StreamTable(id.substring(0, dot), id.substring(dot + 1), true);
    }

    static List<String> ids(List<StreamTable> tables) {
        return tables.stream().map(StreamTable::id).toList();
    }

    private static String quote(String identifier) {
        return "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    @Override
    public int compareTo(StreamTable o) {
        return id().compareTo(o.id());
    }
}
