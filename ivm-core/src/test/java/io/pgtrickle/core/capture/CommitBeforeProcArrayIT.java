package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.embedded.EmbeddedPostgresServer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The race that lost committed changes under concurrent writers, made deterministic.
 *
 * <p>A writer's commit record is flushed, and can be decoded and delivered, before the writer
 * leaves the proc array; until then no snapshot counts its xid as completed, so the ingester's
 * snapshot {@code xmax} can be at or below that xid. Here the writer's commit is held in exactly
 * that gap by synchronous replication to a standby that does not exist, while an older
 * transaction stays open so that {@code xmax} cannot pass it. The change must still be buffered
 * under the writer's own xid8 and reach the stream table.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class CommitBeforeProcArrayIT {
    @Test
    void aChangeDeliveredBeforeItsWriterLeftTheProcArrayIsBufferedUnderItsOwnXid() throws Exception {
        // synchronous_commit = local for everyone but the writer, so that only its commit waits.
        var options = new EmbeddedPostgresServer.Options(0, null, false, Map.of("synchronous_commit", "local"));
        try (EmbeddedPostgresServer server = EmbeddedPostgresServer.start(options)) {
            String url = server.jdbcUrl("postgres");
            execute(url, "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)", "INSERT INTO t VALUES (1, 10)");
            EngineConfig config = EngineConfig.of(url).withCdcMode(CdcMode.WAL).withCaptureTimeout(Duration.ofSeconds(30));
            try (PgTrickleEngine engine = PgTrickleEngine.open(config);
                 Connection older = DriverManager.getConnection(url);
                 Connection writer = DriverManager.getConnection(url);
                 Connection admin = DriverManager.getConnection(url)) {
                // No scheduler: nothing but the two sessions below may complete an xid meanwhile.
                var api = engine.streamTables();
                api.create(StreamTableSpec.parse("t_copy", "SELECT id, v FROM t", "1h", "DIFFERENTIAL"));
                api.refresh("t_copy"); // starts the WAL stream
                String buffer = "pgtrickle_changes.changes_" + value(admin, "SELECT 't'::regclass::oid::bigint");

                execute(admin, "ALTER SYSTEM SET synchronous_standby_names = 'nobody'", "SELECT pg_reload_conf()");
                older.setAutoCommit(false);
                long olderXid = Long.parseLong(value(older, "SELECT pg_current_xact_id()::text"));
                // A reload reaches each backend at its next command, some time after pg_reload_conf() returns.
                await().atMost(Duration.ofSeconds(10)).until(() -> "nobody".equals(value(writer, "SHOW synchronous_standby_names")));
                writer.setAutoCommit(false);
                execute(writer, "SET synchronous_commit = on", "INSERT INTO t VALUES (2, 20)");
                long writerXid = Long.parseLong(value(writer, "SELECT pg_current_xact_id()::text"));
                assertThat(writerXid).isGreaterThan(olderXid);
                CompletableFuture<Void> commit = CompletableFuture.runAsync(() -> {
                    try {
                        writer.commit();
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                });
                try {
                    // Delivered and buffered while the commit still waits in the gap ...
                    await().atMost(Duration.ofSeconds(30)).until(() -> value(admin,
                            "SELECT xid::text FROM " + buffer + " WHERE row ->> 'id' = '2'") != null);
                    assertThat(commit).as("the writer's commit is still waiting").isNotDone();
                    assertThat(value(admin, "SELECT pg_visible_in_snapshot(" + writerXid + "::text::xid8,"
                            + " pg_current_snapshot())")).as("no snapshot sees the writer yet").isEqualTo("f");
                    // ... under the writer's own xid (it used to be widened into the previous epoch: ~2^64).
                    assertThat(value(admin, "SELECT xid::text FROM " + buffer + " WHERE row ->> 'id' = '2'"))
                            .isEqualTo(Long.toString(writerXid));
                } finally {
                    execute(admin, "ALTER SYSTEM RESET synchronous_standby_names", "SELECT pg_reload_conf()");
                }
                commit.get(30, TimeUnit.SECONDS);
                older.commit();

                api.refresh("t_copy");
                assertThat(value(admin, "SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM t_copy")).isEqualTo("1:10,2:20");
                assertThat(value(admin, "SELECT count(*) FROM ((SELECT id, v FROM t EXCEPT ALL SELECT id, v FROM t_copy)"
                        + " UNION ALL (SELECT id, v FROM t_copy EXCEPT ALL SELECT id, v FROM t)) d")).isEqualTo("0");
            }
        }
    }

    private static void execute(String url, String... statements) throws SQLException {
        try (Connection c = DriverManager.getConnection(url)) {
            execute(c, statements);
        }
    }

    private static void execute(Connection c, String... statements) throws SQLException {
        try (Statement s = c.createStatement()) {
            for (String sql : statements) {
                s.execute(sql);
            }
        }
    }

    private static String value(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }
}
