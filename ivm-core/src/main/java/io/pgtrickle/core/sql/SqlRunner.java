package io.pgtrickle.core.sql;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import java.sql.Connection;
import java.sql.SQLException;

/**
 * Where the statements of a delta go: executed now over JDBC (a refresh), or written down to run
 * later inside PostgreSQL (the body of an IMMEDIATE trigger function). One sequence of statements
 * serves both, so the delta rules exist once.
 */
public interface SqlRunner {
    /** Runs (or records) one or more statements that return nothing the caller reads. */
    void execute(String sql) throws SQLException;

    /**
     * Fails with {@code message} (the count appended where it is known) when the single bigint
     * {@code countSql} returns is positive.
     */
    void failIfPositive(String countSql, String message) throws SQLException;

    /**
     * Whether the boolean {@code sql} returns is true now, for a choice between statements that are
     * both correct (one only cheaper); written down, it cannot be known, and is true.
     */
    boolean holds(String sql) throws SQLException;

    /**
     * Serialises this delta with concurrent ones producing any of the key hashes {@code keysSql}
     * selects (one uuid column), before what is stored for them is read. A refresh runs alone and
     * needs nothing; an IMMEDIATE trigger locked by key locks them here.
     */
    default void lockKeys(String keysSql) throws SQLException {
    }

    /** Runs (or records) a storage MERGE; recorded MERGEs count nothing and take no sink. */
    StorageMerge.Counts merge(StorageMerge merge, ServerCapabilities server, ChangeSink sink) throws SQLException;

    /** Today's behaviour: every statement runs at once on {@code c}. */
    static SqlRunner jdbc(Connection c) {
        return new SqlRunner() {
            @Override
            public void execute(String sql) throws SQLException {
                Jdbc.executeRaw(c, sql);
            }

            @Override
            public void failIfPositive(String countSql, String message) throws SQLException {
                Long n = Jdbc.queryValue(c, Long.class, countSql);
                if (n != null && n > 0) {
                    throw new PgTrickleException(ErrorCode.INTERNAL, message + " (" + n + ")");
                }
            }

            @Override
            public boolean holds(String sql) throws SQLException {
                return Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class, sql));
            }

            @Override
            public StorageMerge.Counts merge(StorageMerge merge, ServerCapabilities server, ChangeSink sink)
                    throws SQLException {
                return merge.apply(c, server, sink);
            }
        };
    }
}
