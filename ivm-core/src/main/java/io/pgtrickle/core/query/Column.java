package io.pgtrickle.core.query;

import io.pgtrickle.core.sql.Identifiers;
import java.util.Objects;

/**
 * An output column as PostgreSQL types it.
 *
 * @param name column name
 * @param type {@code format_type} text, e.g. {@code numeric(10,2)}
 * @param collation a non-default collation, or {@code null}
 */
public record Column(String name, String type, String collation) {
    public Column {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
    }

    /** The column definition for CREATE TABLE / ALTER TABLE. */
    public String definition() {
        return Identifiers.quote(name) + " " + type + (collation == null ? "" : " COLLATE " + collation);
    }
}
