package io.pgtrickle.relay.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.refresh.RetryPolicy;
import io.pgtrickle.embedded.EmbeddedPostgresServer;
import io.pgtrickle.relay.testing.Positions;
import io.pgtrickle.relay.testing.ReadyEndpoint;
import io.pgtrickle.relay.testing.RelayProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

/**
 * PostgreSQL restarts under the relay (its own server here, so the restart touches no other
 * test): the relay loses its pool and its ownership session, takes the pipeline again when the
 * server is back, and Redis ends with every change of the outbox exactly once, in order.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RelayPostgresRestartIT {
    @Test
    void theRelayResumesExactlyOnceAfterPostgresRestarts(@TempDir Path dir) throws Exception {
        int port = ReadyEndpoint.freePort();
        var options = new EmbeddedPostgresServer.Options(port, dir.resolve("pgdata"), false, Map.of());
        EmbeddedPostgresServer server = EmbeddedPostgresServer.start(options);
        String url = server.jdbcUrl("postgres");
        String key = "pgt-pgrestart-" + System.nanoTime();
        execute(url, "CREATE TABLE events (id bigserial PRIMARY KEY, k int NOT NULL, v int NOT NULL)");
        Path config = Files.writeString(dir.resolve("relay.toml"), """
                postgres_url = "%s"
                metrics_addr = "127.0.0.1:%d"

                [[pipeline]]
                name = "to-redis"
                direction = "forward"
                retry_initial_backoff = "200ms"
                retry_max_backoff = "1s"
                [pipeline.source]
                stream_table = "totals"
                [pipeline.sink]
                type = "redis"
                stream_key = "%s"
                """.formatted(url, ReadyEndpoint.freePort(), key));
        EngineConfig engineConfig = EngineConfig.of(url).withCdcMode(CdcMode.WAL).withSchedulerTick(Duration.ofMillis(100))
                .withRetryPolicy(new RetryPolicy(Duration.ofMillis(200), Duration.ofSeconds(1), 1000));
        try (PgTrickleEngine engine = PgTrickleEngine.open(engineConfig);
             RelayProcess relay = RelayProcess.start(config, dir.resolve("relay.log"))) {
            engine.streamTables().create(StreamTableSpec.parse("totals",
                    "SELECT k, sum(v) AS total FROM events GROUP BY k", "200ms", "DIFFERENTIAL"));
            engine.outboxes().enable("totals");
            engine.start();
            insert(url, 0, 40);
            awaitDelivered(url, key, relay);

            server.close();
            Thread.sleep(1000);
            server = EmbeddedPostgresServer.start(options);

            insert(url, 40, 80);
            awaitDelivered(url, key, relay);
            assertThat(relay.alive()).as(relay.output()).isTrue();
            assertThat(Positions.inRedis("127.0.0.1", 6379, key)).isEqualTo(outbox(url));
        } finally {
            server.close();
            try (RedisClient redis = RedisClient.builder().hostAndPort("127.0.0.1", 6379).build()) {
                redis.del(key);
            }
        }
    }

    private static void insert(String url, int from, int to) throws Exception {
        try (Connection c = DriverManager.getConnection(url);
             PreparedStatement ps = c.prepareStatement("INSERT INTO events (k, v) VALUES (?, ?)")) {
            for (int i = from; i < to; i++) {
                ps.setInt(1, i % 6);
                ps.setInt(2, i);
                ps.executeUpdate();
                Thread.sleep(20);
            }
        }
    }

    private static void awaitDelivered(String url, String key, RelayProcess relay) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            Thread.sleep(500);
            List<String> expected;
            try {
                expected = outbox(url);
            } catch (java.sql.SQLException e) {
                continue; // the server is still starting
            }
            if (!expected.isEmpty() && Positions.inRedis("127.0.0.1", 6379, key).size() >= expected.size()
                    && expected.equals(outbox(url))) {
                return;
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not delivered within 90 s:\n" + relay.output());
            }
        }
    }

    private static List<String> outbox(String url) throws java.sql.SQLException {
        try (Connection c = DriverManager.getConnection(url)) {
            return Positions.inOutbox(c, "public.totals");
        }
    }

    private static void execute(String url, String sql) throws java.sql.SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
