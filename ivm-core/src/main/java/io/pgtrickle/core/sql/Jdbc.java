package io.pgtrickle.core.sql;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;

/** Small JDBC conveniences: a transaction template and one-liners for our own (bound) SQL. */
public final class Jdbc {
    private Jdbc() {
    }

    /** Work done with a connection inside a transaction. */
    @FunctionalInterface
    public interface Work<T> {
        T run(Connection connection) throws SQLException;
    }

    /**
     * Runs {@code work} in one transaction at {@code isolation} and commits; rolls back on any
     * exception so nothing is left half done.
     */
    public static <T> T inTransaction(DataSource dataSource, int isolation, Work<T> work) throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            return inTransaction(c, isolation, work);
        }
    }

    /**
     * Runs {@code work} in a transaction that is always rolled back: for work that must leave
     * no trace (explain analyze of a refresh).
     */
    public static <T> T inRolledBackTransaction(Connection c, int isolation, Work<T> work) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        int previousIsolation = c.getTransactionIsolation();
        c.setAutoCommit(false);
        c.setTransactionIsolation(isolation);
        try {
            return work.run(c);
        } finally {
            try {
                c.rollback();
            } finally {
                if (!c.isClosed()) {
                    c.setTransactionIsolation(previousIsolation);
                    c.setAutoCommit(autoCommit);
                }
            }
        }
    }

    /**
     * As above on a connection the caller owns; restores autocommit afterwards. The isolation is
     * set for this transaction only ({@code SET TRANSACTION}, its first statement): the driver's
     * {@code get/setTransactionIsolation} would cost three more round trips per transaction
     * ({@code SHOW}, {@code SET SESSION CHARACTERISTICS}, and the same again to restore it).
     */
    public static <T> T inTransaction(Connection c, int isolation, Work<T> work) throws SQLException {
        String level = switch (isolation) {
            case Connection.TRANSACTION_READ_COMMITTED -> "READ COMMITTED";
            case Connection.TRANSACTION_REPEATABLE_READ -> "REPEATABLE READ";
            case Connection.TRANSACTION_SERIALIZABLE -> "SERIALIZABLE";
            default -> throw new IllegalArgumentException("unsupported transaction isolation " + isolation);
        };
        return inTransactionIsolatedByWork(c, tx -> {
            try (Statement s = tx.createStatement()) {
                s.execute("SET TRANSACTION ISOLATION LEVEL " + level);
            }
            return work.run(tx);
        });
    }

    /**
     * As {@link #inTransaction(Connection, int, Work)}, for work whose first statement sets the
     * transaction's isolation itself ({@code SET TRANSACTION ...}, sent together with what follows
     * it): one round trip fewer.
     */
    public static <T> T inTransactionIsolatedByWork(Connection c, Work<T> work) throws SQLException {
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            T result = work.run(c);
            c.commit();
            return result;
        } catch (SQLException | RuntimeException | Error e) {
            try {
                c.rollback();
            } catch (SQLException rollbackFailure) {
                e.addSuppressed(rollbackFailure);
            }
            throw e;
        } finally {
            if (!c.isClosed()) {
                c.setAutoCommit(autoCommit);
            }
        }
    }

    /** Runs our own SQL with bound parameters; returns the update count. */
    public static int update(Connection c, String sql, Object... parameters) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, parameters)) {
            return ps.executeUpdate();
        }
    }

    /**
     * Runs SQL that embeds user query text through a plain statement: no '?' placeholder
     * processing (JSON operators contain '?'), and never with parameters.
     */
    public static void executeRaw(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /** Runs our own SQL (e.g. a function call) with bound parameters, ignoring any result. */
    public static void call(Connection c, String sql, Object... parameters) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, parameters)) {
            ps.execute();
        }
    }

    public static PreparedStatement prepare(Connection c, String sql, Object... parameters) throws SQLException {
        PreparedStatement ps = c.prepareStatement(sql);
        try {
            for (int i = 0; i < parameters.length; i++) {
                ps.setObject(i + 1, parameters[i]);
            }
            return ps;
        } catch (SQLException e) {
            ps.close();
            throw e;
        }
    }

    /** The first column of the single row the query returns, or {@code null} when none. */
    public static <T> T queryValue(Connection c, Class<T> type, String sql, Object... parameters) throws SQLException {
        try (PreparedStatement ps = prepare(c, sql, parameters); ResultSet rs = ps.executeQuery()) {
            return rs.next() ? rs.getObject(1, type) : null;
        }
    }
}
