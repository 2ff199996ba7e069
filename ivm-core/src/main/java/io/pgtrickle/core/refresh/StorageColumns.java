package io.pgtrickle.core.refresh;

import io.pgtrickle.core.query.Column;
import io.pgtrickle.core.query.RelationColumns;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/** The user-visible columns of a stream table's storage table, as they are now (hidden __pgt_ ones left out). */
public final class StorageColumns {
    private StorageColumns() {
    }

    public static List<Column> of(Connection c, long relid) throws SQLException {
        return RelationColumns.of(c, relid).stream().filter(col -> !col.name().startsWith("__pgt_")).toList();
    }
}
