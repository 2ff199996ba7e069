package io.pgtrickle.core.ivm;

import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.QualifiedName;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A table in a defining query's FROM clause, under the alias the query uses for it.
 *
 * @param index position in the FROM clause, left to right
 * @param relid the relation
 * @param table its name
 * @param alias the alias expressions use (the table name when none is given)
 * @param columns its column names, in order
 */
public record FromItem(int index, long relid, QualifiedName table, String alias, List<String> columns) {
    String quotedAlias() {
        return Identifiers.quote(alias);
    }

    String columnList(String qualifier) {
        return columns.stream().map(c -> (qualifier == null ? "" : qualifier + ".") + Identifiers.quote(c))
                .collect(Collectors.joining(", "));
    }

    /** The table as it is now (in the refresh snapshot); its rows weigh 1. */
    String current() {
        return table.quoted() + " AS " + quotedAlias();
    }

    /** The window's changes of this table, decoded into its row type, with their weights. */
    String delta(String windowTable) {
        return "(SELECT (jsonb_populate_record(NULL::" + table.quoted() + ", __pgt_c.row)).*, __pgt_c.weight::bigint AS __pgt_w"
                + " FROM pg_temp." + Identifiers.quote(windowTable) + " __pgt_c WHERE __pgt_c.weight <> 0) AS " + quotedAlias();
    }

    /** The table as it was at the previous frontier: now, minus this window's changes. */
    String previous(String windowTable) {
        return "(SELECT " + columnList(null) + ", 1::bigint AS __pgt_w FROM " + table.quoted()
                + " UNION ALL SELECT " + columnList("__pgt_p") + ", -__pgt_p.__pgt_w FROM "
                + delta(windowTable).replaceFirst(" AS " + java.util.regex.Pattern.quote(quotedAlias()) + "$", " AS __pgt_p")
                + ") AS " + quotedAlias();
    }
}
