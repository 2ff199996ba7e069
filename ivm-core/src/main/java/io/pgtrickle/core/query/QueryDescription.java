package io.pgtrickle.core.query;

import java.util.List;

/**
 * What PostgreSQL says about a defining query: its output columns, the relations it reads
 * (views and the relations under them) and the user-defined functions it calls.
 */
public record QueryDescription(String query, List<Column> columns, List<SourceRelation> sources,
                               List<SourceFunction> functions) {
    public QueryDescription {
        columns = List.copyOf(columns);
        sources = List.copyOf(sources);
        functions = List.copyOf(functions);
    }

    public QueryDescription(String query, List<Column> columns, List<SourceRelation> sources) {
        this(query, columns, sources, List.of());
    }
}
