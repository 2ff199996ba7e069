package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.query.Column;
import io.pgtrickle.core.query.SourceRelation;
import io.pgtrickle.core.sql.QualifiedName;
import java.util.List;

/**
 * How a stream table is maintained: modes, the reason for FULL, columns, sources, the FULL refresh
 * SQL and, when differential, the strategy and the delta SQL (over every source's window).
 * {@code rowKey}: the output columns that identify a row (the outbox's key), or null for the row id.
 */
public record Explanation(QualifiedName name, String query, RefreshMode refreshMode, RefreshMode effectiveMode,
                          String reason, List<String> rowKey, List<Column> columns, List<SourceRelation> sources, String refreshSql,
                          String strategy, String deltaSql) {
    /** A human-readable rendering, as {@code pgtrickle explain} prints it. */
    public String render() {
        StringBuilder s = new StringBuilder();
        s.append("stream table  ").append(name).append('\n');
        s.append("refresh mode  ").append(refreshMode).append(" -> ").append(effectiveMode).append('\n');
        if (reason != null) {
            s.append("why           ").append(reason).append('\n');
        }
        s.append("columns\n");
        columns.forEach(c -> s.append("  ").append(c.name()).append(' ').append(c.type())
                .append(c.collation() == null ? "" : " COLLATE " + c.collation()).append('\n'));
        s.append("row key       ").append(rowKey == null ? "__pgt_row_id" : rowKey.isEmpty() ? "(one row)"
                : String.join(", ", rowKey)).append('\n');
        s.append("sources\n");
        sources.forEach(src -> s.append("  ").append(src.name()).append(" (").append(src.kind()).append(")\n"));
        s.append("defining query\n  ").append(query.strip().replace("\n", "\n  ")).append('\n');
        if (strategy != null) {
            s.append("operator tree (strategy per operator)\n").append(strategy.indent(2));
        }
        s.append("full refresh SQL\n  ").append(refreshSql.replace("\n", "\n  ")).append('\n');
        if (deltaSql != null) {
            s.append("delta SQL (every source with changes)\n  ").append(deltaSql.replace("\n", "\n  ")).append('\n');
        }
        return s.toString();
    }
}
