package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.publication.StreamTablePublications;
import io.pgtrickle.core.query.Column;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/** DDL of the storage table behind a stream table: user columns plus the hidden row id. */
final class StorageTable {
    static final String ROW_ID = "__pgt_row_id";
    /** Hash of the row's content, or of its group key for grouped queries; rows sharing it are numbered. */
    static final String ROW_HASH = "__pgt_h";

    private StorageTable() {
    }

    static void create(Connection c, QualifiedName name, List<Column> columns) throws SQLException {
        String defs = columns.stream().map(Column::definition).collect(Collectors.joining(",\n    "));
        Jdbc.executeRaw(c, "CREATE TABLE " + name.quoted() + " (\n    " + (defs.isEmpty() ? "" : defs + ",\n    ")
                + ROW_ID + " uuid PRIMARY KEY,\n    " + ROW_HASH + " uuid NOT NULL)");
        Jdbc.executeRaw(c, "CREATE INDEX ON " + name.quoted() + " (" + ROW_HASH + ")");
        Jdbc.executeRaw(c, "COMMENT ON TABLE " + name.quoted() + " IS 'pg_trickle stream table; its contents are"
                + " maintained by the engine, change it with pgtrickle.alter_stream_table'");
    }

    /**
     * Changes the columns of an existing storage table in place (keeping its identity, grants,
     * indexes on kept columns): drops columns the new query no longer has, adds new ones, and
     * retypes changed ones. When any column changed, the rows are removed too, in the same
     * transaction (readers keep seeing the old contents until it commits): row ids hash the
     * values only, so a renamed column would otherwise keep its rows and stay empty. The refresh
     * that follows fills the table again.
     */
    static void migrate(Connection c, QualifiedName name, List<Column> current, List<Column> wanted)
            throws SQLException {
        if (current.equals(wanted)) {
            return;
        }
        Map<String, Column> now = byName(current);
        Map<String, Column> next = byName(wanted);
        StreamTablePublications.releaseColumns(c, name);
        for (Column old : current) {
            if (!next.containsKey(old.name())) {
                Jdbc.executeRaw(c, "ALTER TABLE " + name.quoted() + " DROP COLUMN " + Identifiers.quote(old.name()));
            }
        }
        for (Column col : wanted) {
            Column old = now.get(col.name());
            if (old == null) {
                Jdbc.executeRaw(c, "ALTER TABLE " + name.quoted() + " ADD COLUMN " + col.definition());
            } else if (!old.type().equals(col.type()) || !Objects.equals(old.collation(), col.collation())) {
                Jdbc.executeRaw(c, "ALTER TABLE " + name.quoted() + " ALTER COLUMN " + Identifiers.quote(col.name())
                        + " TYPE " + col.type() + (col.collation() == null ? "" : " COLLATE " + col.collation())
                        + " USING NULL");
            }
        }
        StreamTablePublications.syncColumns(c, name);
        Jdbc.executeRaw(c, "DELETE FROM " + name.quoted());
    }

    private static Map<String, Column> byName(List<Column> columns) {
        Map<String, Column> map = new LinkedHashMap<>();
        columns.forEach(c -> map.put(c.name(), c));
        return map;
    }
}
