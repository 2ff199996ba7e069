package io.pgtrickle.core.sql;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * Where a {@link StorageMerge} also sends the rows it changes (the outbox): written by the MERGE's
 * own statement where the server returns both images from MERGE, else collected in
 * {@link StorageMerge#DELTA_TABLE} and written after.
 */
public interface ChangeSink {
    /**
     * Comma-separated CTEs ({@code name AS (…)}) that write the rows of CTE {@code changes}
     * ({@code __pgt_action}: INSERT, UPDATE or DELETE; {@code __pgt_rid}; {@code __pgt_before},
     * {@code __pgt_after}: jsonb images of the user columns) in the MERGE's statement.
     */
    String writeSql(String changes);

    /** Writes the rows collected in {@link StorageMerge#DELTA_TABLE}, when the statement could not. */
    void writeCollected(Connection c) throws SQLException;
}
