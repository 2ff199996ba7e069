package io.pgtrickle.testing;

import io.pgtrickle.embedded.EmbeddedPostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** A database of its own for one test class on the shared PostgreSQL server. */
public final class TestDatabase {
    private final EmbeddedPostgresServer server;
    private final String name;

    TestDatabase(EmbeddedPostgresServer server, String name) {
        this.server = server;
        this.name = name;
    }

    /**
     * Creates database {@code name} on {@code server}, for tests that run a server of their own
     * (another PostgreSQL version, say); {@link #drop()} it afterwards.
     */
    public static TestDatabase create(EmbeddedPostgresServer server, String name) {
        try (Connection c = DriverManager.getConnection(server.jdbcUrl("postgres")); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create database " + name + ": " + e.getMessage(), e);
        }
        return new TestDatabase(server, name);
    }

    public String name() {
        return name;
    }

    public EmbeddedPostgresServer server() {
        return server;
    }

    /** JDBC URL of this database, connecting as the superuser. */
    public String jdbcUrl() {
        return server.jdbcUrl(name);
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl());
    }

    /** Runs each statement in autocommit mode. */
    public void execute(String... statements) {
        try (Connection c = connect(); Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        } catch (SQLException e) {
            throw new IllegalStateException("SQL failed: " + e.getMessage(), e);
        }
    }

    /** The rows of a query, each row as a list of column values; parameters are bound in order. */
    public List<List<Object>> rows(String sql, Object... parameters) {
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement(sql)) {
            for (int i = 0; i < parameters.length; i++) {
                ps.setObject(i + 1, parameters[i]);
            }
            try (ResultSet rs = ps.executeQuery()) {
                int n = rs.getMetaData().getColumnCount();
                List<List<Object>> rows = new ArrayList<>();
                while (rs.next()) {
                    Object[] row = new Object[n];
                    for (int i = 0; i < n; i++) {
                        row[i] = rs.getObject(i + 1);
                    }
                    rows.add(Arrays.asList(row));
                }
                return rows;
            }
        } catch (SQLException e) {
            throw new IllegalStateException("query failed: " + sql + ": " + e.getMessage(), e);
        }
    }

    /** The server's {@code server_version_num}, e.g. 180006. */
    public int serverVersionNum() {
        return Integer.parseInt((String) value("SELECT current_setting('server_version_num')"));
    }

    /** The single value of a one-row, one-column query. */
    public Object value(String sql, Object... parameters) {
        List<List<Object>> rows = rows(sql, parameters);
        if (rows.size() != 1 || rows.get(0).size() != 1) {
            throw new IllegalStateException("expected one value from " + sql + " but got " + rows);
        }
        return rows.get(0).get(0);
    }

    /**
     * The rows by which {@code left} and {@code right} differ as multisets (both directions of
     * EXCEPT ALL); empty when they are equal. Column lists of both queries must be compatible.
     */
    public List<List<Object>> multisetDifference(String left, String right) {
        return rows("(SELECT 'missing' AS side, * FROM ((" + right + ") EXCEPT ALL (" + left + ")) m)"
                + " UNION ALL (SELECT 'extra', * FROM ((" + left + ") EXCEPT ALL (" + right + ")) x)");
    }

    /** Drops this database, with its replication slots. */
    public void drop() throws SQLException {
        try (Connection c = DriverManager.getConnection(server.jdbcUrl("postgres"));
             Statement s = c.createStatement()) {
            // A database with logical replication slots cannot be dropped. The timeout waits for the
            // backend to exit: until it has, its slot is still active and cannot be dropped.
            s.execute("SELECT pg_terminate_backend(active_pid, 10000) FROM pg_replication_slots"
                    + " WHERE database = '" + name + "' AND active_pid IS NOT NULL");
            s.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots"
                    + " WHERE database = '" + name + "' AND NOT active");
            s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
        }
    }
}
