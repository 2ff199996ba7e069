package io.pgtrickle.core.ivm;

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
 */
public record BaseTable(long relid, QualifiedName name, List<String> columns, List<String> primaryKey) {
    public BaseTable {
        columns = List.copyOf(columns);
        primaryKey = List.copyOf(primaryKey);
    }

    String columnList(String qualifier) {
        return columns.stream().map(c -> (qualifier == null ? "" : qualifier + ".") + Identifiers.quote(c))
                .collect(Collectors.joining(", "));
    }
}
