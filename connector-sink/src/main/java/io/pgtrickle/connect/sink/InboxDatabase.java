package io.pgtrickle.connect.sink;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;
import java.time.Duration;
import java.util.Properties;
import java.util.Set;

/** Connections to the inbox's database, and how to read their failures. */
final class InboxDatabase {
    /** SQLSTATEs of failures that pass: the server going away or not ready, contention between writers. */
    private static final Set<String> RETRIABLE_STATES = Set.of("57P01", "57P02", "57P03", "53300", "40001", "40P01");

    private InboxDatabase() {
    }

    /**
     * Opens a connection with the PostgreSQL driver itself, not DriverManager: in a Connect plugin class
     * loader DriverManager may not see the plugin's driver.
     */
    static Connection connect(PgTrickleSinkConfig config, Duration timeout) throws SQLException {
        Properties p = new Properties();
        if (config.user() != null) {
            p.setProperty("user", config.user());
        }
        if (config.password() != null) {
            p.setProperty("password", config.password());
        }
        String seconds = Long.toString(Math.max(1, timeout.toSeconds()));
        p.setProperty("connectTimeout", seconds);
        p.setProperty("loginTimeout", seconds);
        p.setProperty("tcpKeepAlive", "true");
        p.setProperty("ApplicationName", "pgtrickle-connector-sink");
        Connection c = new org.postgresql.Driver().connect(config.url(), p);
        if (c == null) {
            throw new SQLException("the PostgreSQL driver does not accept the URL " + config.url(), "08001");
        }
        return c;
    }

    /** The inbox's table ({@code schema.name}); SQLSTATE 42704 when there is no such inbox. */
    static String inboxTable(Connection c, String inbox) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement("SELECT pgtrickle._inbox_table(pgtrickle._inbox(?))")) {
            ps.setString(1, inbox);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getString(1);
            }
        }
    }

    /** True when the failure passes by itself (connection lost or refused, server restarting, contention). */
    static boolean retriable(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof SQLTransientException || t instanceof SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException) {
                String state = ((SQLException) t).getSQLState();
                if (state != null && (state.startsWith("08") || RETRIABLE_STATES.contains(state))) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Why validation or start-up cannot use the inbox, in words for the user. */
    static String inboxProblem(String inbox, SQLException e) {
        if ("42704".equals(e.getSQLState())) {
            return "there is no inbox " + inbox + " in this database: create it with SELECT pgtrickle.create_inbox('"
                    + inbox + "')";
        }
        if ("3F000".equals(e.getSQLState()) || "42883".equals(e.getSQLState())) {
            return "the database has no pg_trickle schema (pgtrickle): is the engine installed there? ("
                    + e.getMessage() + ")";
        }
        return "cannot look up inbox " + inbox + ": " + e.getMessage();
    }

    /**
     * The server's own words: a failed batch says only "Batch entry n ... was aborted" (with the whole
     * statement) and chains the server's error as the next exception.
     */
    static String cause(SQLException e) {
        SQLException next = e.getNextException();
        SQLException reason = next != null ? next : e;
        return reason.getMessage() + (reason.getSQLState() == null ? "" : " (SQLSTATE " + reason.getSQLState() + ")");
    }
}
