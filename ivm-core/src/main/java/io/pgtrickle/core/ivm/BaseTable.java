package io.pgtrickle.core.ivm;

import io.pgtrickle.core.capture.RowDecoder;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.QualifiedName;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A table whose changes are captured, as the compiler resolved it.
 *
 * @param relid the relation
 * @param name its qualified name
 * @param columns its column names, in order
 * @param primaryKey its primary key columns, or empty when it has none
 * @param jsonColumns its json-typed columns, which its change buffer's images mark when they hold JSON null
 * @param indexLeads the first columns of its (valid, non-partial) indexes: a lookup by one of them is an index probe
 */
public record BaseTable(long relid, QualifiedName name, List<String> columns, List<String> primaryKey,
                        List<RowDecoder.JsonColumn> jsonColumns, java.util.Set<String> indexLeads) {
    public BaseTable {
        columns = List.copyOf(columns);
        primaryKey = List.copyOf(primaryKey);
        jsonColumns = List.copyOf(jsonColumns);
        indexLeads = java.util.Set.copyOf(indexLeads);
    }

    /** A table whose only index is its primary key's. */
    public BaseTable(long relid, QualifiedName name, List<String> columns, List<String> primaryKey,
                     List<RowDecoder.JsonColumn> jsonColumns) {
        this(relid, name, columns, primaryKey, jsonColumns, primaryKey.isEmpty() ? java.util.Set.of()
                : java.util.Set.of(primaryKey.get(0)));
    }

    /** A table without json-typed columns. */
    public BaseTable(long relid, QualifiedName name, List<String> columns, List<String> primaryKey) {
        this(relid, name, columns, primaryKey, List.of());
    }

    /** Reads this table's change-buffer images. */
    RowDecoder decoder() {
        return new RowDecoder(name, columns, jsonColumns);
    }

    String columnList(String qualifier) {
        return columns.stream().map(c -> (qualifier == null ? "" : qualifier + ".") + Identifiers.quote(c))
                .collect(Collectors.joining(", "));
    }
}
