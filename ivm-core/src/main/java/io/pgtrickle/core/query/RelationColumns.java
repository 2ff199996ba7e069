package io.pgtrickle.core.query;

import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** The columns of a relation as PostgreSQL types them: typmods and non-default collations included. */
public final class RelationColumns {
    private RelationColumns() {
    }

    public static List<Column> of(Connection c, long relid) throws SQLException {
        try (PreparedStatement ps = Jdbc.prepare(c, sql("?::oid"), relid); ResultSet rs = ps.executeQuery()) {
            return read(rs);
        }
    }

    /** The query of {@link #of} for the relation {@code relid} (an SQL expression), for a caller that sends it with others. */
    public static String sql(String relid) {
        return """
                SELECT a.attname, format_type(a.atttypid, a.atttypmod),
                       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
                            THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END
                  FROM pg_attribute a
                  JOIN pg_type t ON t.oid = a.atttypid
                  LEFT JOIN pg_collation co ON co.oid = a.attcollation
                  LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
                 WHERE a.attrelid = %s AND a.attnum > 0 AND NOT a.attisdropped
                 ORDER BY a.attnum""".formatted(relid);
    }

    /** The columns in a result of {@link #sql}. */
    public static List<Column> read(ResultSet rs) throws SQLException {
        List<Column> columns = new ArrayList<>();
        while (rs.next()) {
            columns.add(new Column(rs.getString(1), rs.getString(2), rs.getString(3)));
        }
        return columns;
    }
}
