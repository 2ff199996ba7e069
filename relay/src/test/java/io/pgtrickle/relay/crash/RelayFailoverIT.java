package io.pgtrickle.relay.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.relay.testing.Positions;
import io.pgtrickle.relay.testing.ReadyEndpoint;
import io.pgtrickle.relay.testing.RelayProcess;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import redis.clients.jedis.RedisClient;

/**
 * Two relays of one relay_group_id: one owns the pipeline, the other stands by; when the owner is
 * SIGKILLed the standby takes over within 5 s, and Redis holds every change exactly once, in order.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RelayFailoverIT {
    private final TestDatabase db;

    RelayFailoverIT(TestDatabase db) {
        this.db = db;
    }

    @Test
    void aStandbyTakesOverWithinFiveSecondsOfTheOwnersDeath(@TempDir Path dir) throws Exception {
        String key = "pgt-failover-" + System.nanoTime();
        db.execute("CREATE TABLE events (id bigserial PRIMARY KEY, k int NOT NULL, v int NOT NULL)");
        int portA = ReadyEndpoint.freePort();
        int portB = ReadyEndpoint.freePort();
        Path a = config(dir.resolve("a.toml"), portA, key);
        Path b = config(dir.resolve("b.toml"), portB, key);
        EngineConfig engineConfig = EngineConfig.of(db.jdbcUrl()).withSlotName("pgtrickle_" + db.name())
                .withSchedulerTick(Duration.ofMillis(100));
        try (PgTrickleEngine engine = PgTrickleEngine.open(engineConfig).start();
             RelayProcess owner = RelayProcess.start(a, dir.resolve("a.log"))) {
            engine.streamTables().create(StreamTableSpec.parse("totals",
                    "SELECT k, sum(v) AS total FROM events GROUP BY k", "250ms", "DIFFERENTIAL"));
            engine.outboxes().enable("totals");
            ReadyEndpoint.await(portA, r -> r.body().contains("pipeline to-redis: running"), "said 'running'", owner);
            try (RelayProcess standby = RelayProcess.start(b, dir.resolve("b.log"))) {
                ReadyEndpoint.await(portB, r -> r.body().contains("pipeline to-redis: standby"), "said 'standby'", standby);
                insert(0, 50);
                awaitCount(key, expected().size());
                owner.kill();
                long killed = System.nanoTime();
                ReadyEndpoint.await(portB, r -> r.body().contains("pipeline to-redis: running"), "said 'running'", standby);
                Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
                System.out.println("RelayFailoverIT: the standby took over " + takeover.toMillis() + " ms after the kill");
                assertThat(takeover).as("takeover time").isLessThan(Duration.ofSeconds(5));
                insert(50, 100);
                awaitCount(key, expected().size());
                assertThat(standby.stop(Duration.ofSeconds(30))).isZero();
            }
            assertThat(positions(key)).isEqualTo(expected());
        } finally {
            try (RedisClient redis = RedisClient.builder().hostAndPort("127.0.0.1", 6379).build()) {
                redis.del(key);
            }
        }
    }

    private Path config(Path file, int port, String key) throws Exception {
        return Files.writeString(file, """
                postgres_url = "%s"
                metrics_addr = "127.0.0.1:%d"
                relay_group_id = "failover"

                [[pipeline]]
                name = "to-redis"
                direction = "forward"
                [pipeline.source]
                stream_table = "totals"
                [pipeline.sink]
                type = "redis"
                stream_key = "%s"
                """.formatted(db.jdbcUrl(), port, key));
    }

    private void insert(int from, int to) {
        for (int i = from; i < to; i++) {
            db.execute("INSERT INTO events (k, v) VALUES (" + (i % 7) + ", " + i + ")");
        }
    }

    private List<String> expected() throws Exception {
        Thread.sleep(1000); // let the last refresh commit
        return Positions.inOutbox(db, "public.totals");
    }

    private static List<String> positions(String key) {
        return Positions.inRedis("127.0.0.1", 6379, key);
    }

    private static void awaitCount(String key, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (positions(key).size() < n && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
    }
}
