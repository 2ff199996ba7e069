package io.pgtrickle.core.query;

import java.util.List;

/** What PostgreSQL says about a defining query: its output columns and the relations it reads. */
public record QueryDescription(String query, List<Column> columns, List<SourceRelation> sources) {
    public QueryDescription {
        columns = List.copyOf(columns);
        sources = List.copyOf(sources);
    }
}
