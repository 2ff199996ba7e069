package io.pgtrickle.core.outbox;

import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.StorageMerge;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Writes a refresh's delta to the stream table's outbox, in the refresh's transaction.
 *
 * <p>The MERGE into the storage table collects the rows it changed in
 * {@link StorageMerge#DELTA_TABLE} (their images before and after, from {@code RETURNING}), so
 * the delta costs no second scan of the stream table; {@code pgtrickle._publish_outbox} turns them
 * into one outbox entry in one statement, inline or in the side table. An empty delta writes no
 * entry.
 */
public final class OutboxWriter {
    private OutboxWriter() {
    }

    /** Whether stream table {@code id} has an outbox, as the caller's transaction sees it. */
    public static boolean enabled(Connection c, long id) throws SQLException {
        return Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class,
                "SELECT EXISTS (SELECT 1 FROM pgtrickle.pgt_outbox_config WHERE pgt_id = ?)", id));
    }

    /**
     * Publishes the rows the refresh's MERGE changed as one entry.
     *
     * @return the entry's offset, or {@code null} when the delta was empty
     */
    public static Long publish(Connection c, long id, long refreshId, boolean fullRefresh) throws SQLException {
        return Jdbc.queryValue(c, Long.class, "SELECT pgtrickle._publish_outbox(?, ?, ?)", id, refreshId, fullRefresh);
    }
}
