package io.pgtrickle.relay.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.refresh.RetryPolicy;
import io.pgtrickle.embedded.EmbeddedPostgresServer;
import io.pgtrickle.relay.testing.Changes;
import io.pgtrickle.relay.testing.KafkaTestCluster;
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
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * PostgreSQL restarts under the relay (its own server here, so the restart touches no other
 * test): the relay loses its pool and its ownership session, takes the pipeline again when the
 * server is back, and the target (Kafka, NATS JetStream, Redis) ends with every change of the
 * outbox exactly once, in order.
 */
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RelayPostgresRestartIT {
    private static KafkaTestCluster kafka;

    @BeforeAll
    static void startKafka() throws Exception {
        kafka = KafkaTestCluster.start();
    }

    @AfterAll
    static void stopKafka() throws Exception {
        kafka.close();
    }

    @ParameterizedTest(name = "{0}")
    @EnumSource(HaTarget.class)
    void theRelayResumesExactlyOnceAfterPostgresRestarts(HaTarget target, @TempDir Path dir) throws Exception {
        int port = ReadyEndpoint.freePort();
        var options = new EmbeddedPostgresServer.Options(port, dir.resolve("pgdata"), false, Map.of());
        EmbeddedPostgresServer server = EmbeddedPostgresServer.start(options);
        String url = server.jdbcUrl("postgres");
        HaTarget.Destination destination = target.destination("pgrestart-" + Changes.suffix(), kafka);
        execute(url, "CREATE TABLE events (id bigserial PRIMARY KEY, k int NOT NULL, v int NOT NULL)");
        Path config = Files.writeString(dir.resolve("relay.toml"), """
                postgres_url = "%s"
                metrics_addr = "127.0.0.1:%d"

                [[pipeline]]
                name = "%s"
                direction = "forward"
                retry_initial_backoff = "200ms"
                retry_max_backoff = "1s"
                [pipeline.source]
                stream_table = "totals"
                [pipeline.sink]
                %s""".formatted(url, ReadyEndpoint.freePort(), target.pipeline(), destination.sinkToml()));
        EngineConfig engineConfig = EngineConfig.of(url).withCdcMode(CdcMode.WAL).withSchedulerTick(Duration.ofMillis(100))
                .withRetryPolicy(new RetryPolicy(Duration.ofMillis(200), Duration.ofSeconds(1), 1000));
        try (PgTrickleEngine engine = PgTrickleEngine.open(engineConfig);
             RelayProcess relay = RelayProcess.start(config, dir.resolve("relay.log"))) {
            engine.streamTables().create(StreamTableSpec.parse("totals",
                    "SELECT k, sum(v) AS total FROM events GROUP BY k", "200ms", "DIFFERENTIAL"));
            engine.outboxes().enable("totals");
            engine.start();
            insert(url, 0, 40);
            awaitDelivered(url, destination, relay);

            server.close();
            Thread.sleep(1000);
            server = EmbeddedPostgresServer.start(options);

            insert(url, 40, 80);
            awaitDelivered(url, destination, relay);
            assertThat(relay.alive()).as(relay.output()).isTrue();
            // A refresh may still commit a last entry after the wait above: the target must reach
            // the outbox exactly (a lost or repeated change never would).
            await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(250)).untilAsserted(() ->
                    assertThat(destination.positions()).as("%s: every change once, in outbox order", target)
                            .isEqualTo(outbox(url)));
        } finally {
            server.close();
            destination.cleanUp().run();
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

    private static void awaitDelivered(String url, HaTarget.Destination destination, RelayProcess relay)
            throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
        while (true) {
            Thread.sleep(500);
            List<String> expected;
            try {
                expected = outbox(url);
            } catch (java.sql.SQLException e) {
                continue; // the server is still starting
            }
            if (!expected.isEmpty() && destination.positions().size() >= expected.size()
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
