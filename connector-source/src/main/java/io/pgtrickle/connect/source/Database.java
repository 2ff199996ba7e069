package io.pgtrickle.connect.source;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.SQLException;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Connections to the database of a config. The driver's data source is used directly, not
 * {@code DriverManager}: inside Connect's plugin class loader the driver need not be registered.
 */
final class Database {
    private Database() {
    }

    /** One connection, opened within {@code timeoutSeconds} (for validate() and the connector's checks). */
    static Connection connect(PgTrickleSourceConfig config, int timeoutSeconds) throws SQLException {
        return dataSource(config, timeoutSeconds).getConnection();
    }

    /** A small pool for a task: one reader, plus one for the schema look-ups between reads. */
    static HikariDataSource pool(PgTrickleSourceConfig config, String name) {
        HikariConfig hikari = new HikariConfig();
        hikari.setDataSource(dataSource(config, 10));
        hikari.setPoolName(name);
        hikari.setMaximumPoolSize(2);
        hikari.setMinimumIdle(1);
        hikari.setConnectionTimeout(10_000);
        // A failing database fails the first poll, not start(): Connect retries that with back-off.
        hikari.setInitializationFailTimeout(-1);
        return new HikariDataSource(hikari);
    }

    private static PGSimpleDataSource dataSource(PgTrickleSourceConfig config, int timeoutSeconds) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setURL(config.url());
        if (config.user() != null) {
            ds.setUser(config.user());
        }
        if (config.password() != null) {
            ds.setPassword(config.password());
        }
        ds.setConnectTimeout(timeoutSeconds);
        ds.setLoginTimeout(timeoutSeconds);
        ds.setApplicationName("pgtrickle-connector-source");
        return ds;
    }
}
