package io.pgtrickle.connect.source;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;

/**
 * The Connect schemas of one stream table: its row (the user columns, as the outbox's images hold
 * them) and its key (the outbox's key columns: the group key, else {@code __pgt_row_id}).
 */
record TableSchemas(StreamTable table, List<Column> columns, List<Column> keyColumns, Schema row, Schema key) {
    TableSchemas {
        columns = List.copyOf(columns);
        keyColumns = List.copyOf(keyColumns);
    }

    /** Derives the schemas from columns already read. */
    static TableSchemas of(StreamTable table, List<Column> columns, List<Column> keyColumns) {
        String prefix = "pgtrickle." + SchemaNames.sanitize(table.schema()) + "." + SchemaNames.sanitize(table.name());
        return new TableSchemas(table, columns, keyColumns, struct(prefix + ".Value", columns),
                struct(prefix + ".Key", keyColumns));
    }

    private static Schema struct(String name, List<Column> columns) {
        SchemaBuilder b = SchemaBuilder.struct().name(name).optional();
        for (Column c : columns) {
            b.field(c.name(), c.schema());
        }
        return b.build();
    }

    /** Reads the storage table's columns ({@code pg_attribute}, {@code format_type}) and the outbox's key columns. */
    static TableSchemas load(Connection c, StreamTable table) throws SQLException {
        List<Column> all = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT a.attname, format_type(a.atttypid, a.atttypmod)
                  FROM pgtrickle.pgt_stream_tables s JOIN pg_attribute a ON a.attrelid = s.pgt_relid
                 WHERE s.pgt_schema = ? AND s.pgt_name = ? AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum""")) {
            ps.setString(1, table.schema());
            ps.setString(2, table.name());
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    all.add(Column.of(rs.getString(1), rs.getString(2)));
                }
            }
        }
        if (all.isEmpty()) {
            throw new SQLException("stream table " + table.id() + " does not exist (any more)", "42P01");
        }
        List<String> keyNames = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement("""
                SELECT coalesce(c.key_columns, ARRAY['__pgt_row_id'])
                  FROM pgtrickle.pgt_stream_tables s JOIN pgtrickle.pgt_outbox_config c ON c.pgt_id = s.pgt_id
                 WHERE s.pgt_schema = ? AND s.pgt_name = ?""")) {
            ps.setString(1, table.schema());
            ps.setString(2, table.name());
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new SQLException(Catalog.noOutbox(table), "42704");
                }
                for (Object k : (Object[]) rs.getArray(1).getArray()) {
                    keyNames.add((String) k);
                }
            }
        }
        List<Column> user = all.stream().filter(col -> !col.name().startsWith("__pgt")).toList();
        List<Column> key = new ArrayList<>();
        for (String k : keyNames) {
            all.stream().filter(col -> col.name().equals(k)).findFirst().ifPresent(key::add);
        }
        return of(table, user, key);
    }
}
