package io.pgtrickle.core.refresh;

import io.pgtrickle.core.query.Column;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** The user-visible columns of a stream table's storage table, as they are now. */
public final class StorageColumns {
    private StorageColumns() {
    }

    public static List<Column> of(Connection c, long relid) throws SQLException {
        String sql = """
                SELECT a.attname, format_type(a.atttypid, a.atttypmod),
                       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                            THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
                  FROM pg_attribute a
                  JOIN pg_type t ON t.oid = a.atttypid
                  LEFT JOIN pg_collation co ON co.oid = a.attcollation
                  LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                 WHERE a.attrelid = ?::oid AND a.attnum > 0 AND NOT a.attisdropped
                   AND a.attname NOT LIKE '\\_\\_pgt\\_%'
                 ORDER BY a.attnum""";
        List<Column> columns = new ArrayList<>();
        try (PreparedStatement ps = Jdbc.prepare(c, sql, relid); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                columns.add(new Column(rs.getString(1), rs.getString(2), rs.getString(3)));
            }
        }
        return columns;
    }
}
