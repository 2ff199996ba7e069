package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.refresh.RetryPolicy;
import io.pgtrickle.embedded.EmbeddedPostgresServer;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** PostgreSQL restarts under a running engine: it reconnects and resumes without loss. */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class PostgresRestartIT {
    @Test
    void theEngineReconnectsAndResumesAfterPostgresRestarts(@TempDir Path dir) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        var options = new EmbeddedPostgresServer.Options(port, dir.resolve("pgdata"), false, Map.of());
        EmbeddedPostgresServer server = EmbeddedPostgresServer.start(options);
        String url = server.jdbcUrl("postgres");
        execute(url, "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)");
        EngineConfig config = EngineConfig.of(url).withCdcMode(CdcMode.WAL)
                .withSchedulerTick(Duration.ofMillis(100))
                .withRetryPolicy(new RetryPolicy(Duration.ofMillis(200), Duration.ofSeconds(1), 1000));
        try (PgTrickleEngine engine = PgTrickleEngine.open(config)) {
            engine.streamTables().create(StreamTableSpec.parse("anchor", "SELECT * FROM t", "calculated", null));
            engine.streamTables().create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "200ms", null));
            engine.start();
            execute(url, "INSERT INTO t SELECT g, g FROM generate_series(1, 100) g");
            await().atMost(Duration.ofSeconds(20)).until(() -> count(url, "SELECT count(*) FROM t_all") == 100);

            server.close();
            Thread.sleep(1000);
            server = EmbeddedPostgresServer.start(options);

            execute(url, "INSERT INTO t SELECT g, g FROM generate_series(101, 200) g", "UPDATE t SET v = -v WHERE id % 10 = 0",
                    "DELETE FROM t WHERE id % 7 = 0");
            await().ignoreExceptions().atMost(Duration.ofSeconds(90)).until(() ->
                    count(url, "SELECT count(*) FROM ((SELECT * FROM t EXCEPT ALL SELECT id, v FROM t_all)"
                            + " UNION ALL (SELECT id, v FROM t_all EXCEPT ALL SELECT * FROM t)) d") == 0
                            && count(url, "SELECT count(*) FROM t_all") == 172);
            // Every change after the restart was captured: the buffer nets to the table.
            String buffer = "pgtrickle_changes.changes_" + count(url, "SELECT 't'::regclass::oid::bigint");
            assertThat(count(url, "SELECT count(*) FROM ((SELECT (jsonb_populate_record(NULL::t, row)).*, "
                    + "generate_series(1, n) FROM (SELECT row, sum(weight) n FROM " + buffer
                    + " WHERE weight <> 0 GROUP BY row HAVING sum(weight) > 0) z) EXCEPT ALL"
                    + " (SELECT t.*, 1 FROM t)) d")).isZero();
        } finally {
            server.close();
        }
    }

    private static void execute(String url, String... sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }

    private static long count(String url, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
