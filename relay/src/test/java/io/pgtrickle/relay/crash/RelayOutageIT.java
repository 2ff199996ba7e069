package io.pgtrickle.relay.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.relay.testing.Positions;
import io.pgtrickle.relay.testing.PrivateRedisServer;
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

/**
 * A target that goes down under the relay (a private redis-server, SIGKILLed): the pipeline retries,
 * /ready answers 503 naming it, the outbox keeps growing as the engine refreshes; when the server is
 * back, delivery resumes and the stream holds every change exactly once, in order.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RelayOutageIT {
    private final TestDatabase db;

    RelayOutageIT(TestDatabase db) {
        this.db = db;
    }

    @Test
    void deliveryResumesInOrderWhenTheTargetIsBackAndReadyNamesTheStuckPipeline(@TempDir Path dir) throws Exception {
        db.execute("CREATE TABLE events (id bigserial PRIMARY KEY, k int NOT NULL, v int NOT NULL)");
        int port = ReadyEndpoint.freePort();
        try (PrivateRedisServer redis = PrivateRedisServer.started(true)) {
            Path config = Files.writeString(dir.resolve("relay.toml"), """
                    postgres_url = "%s"
                    metrics_addr = "127.0.0.1:%d"

                    [[pipeline]]
                    name = "to-redis"
                    direction = "forward"
                    retry_initial_backoff = "100ms"
                    retry_max_backoff = "500ms"
                    [pipeline.source]
                    stream_table = "totals"
                    [pipeline.sink]
                    type = "redis"
                    url = "%s"
                    stream_key = "outage:{stream_table}"
                    """.formatted(db.jdbcUrl(), port, redis.url()));
            EngineConfig engineConfig = EngineConfig.of(db.jdbcUrl()).withSlotName("pgtrickle_" + db.name())
                    .withSchedulerTick(Duration.ofMillis(100));
            try (PgTrickleEngine engine = PgTrickleEngine.open(engineConfig).start();
                 RelayProcess relay = RelayProcess.start(config, dir.resolve("relay.log"))) {
                engine.streamTables().create(StreamTableSpec.parse("totals",
                        "SELECT k, sum(v) AS total FROM events GROUP BY k", "250ms", "DIFFERENTIAL"));
                engine.outboxes().enable("totals");
                insert(0, 30);
                awaitDelivered(redis, relay);
                int deliveredBefore = Positions.inOutbox(db, "public.totals").size();

                redis.stop(true);
                insert(30, 60);
                String ready = ReadyEndpoint.await(port, r -> r.statusCode() == 503, "answered 503", relay);
                assertThat(ready).contains("pipeline to-redis: retrying since");
                Thread.sleep(1500); // the engine goes on refreshing while the target is down
                assertThat(Positions.inOutbox(db, "public.totals").size()).as("the outbox grows meanwhile")
                        .isGreaterThan(deliveredBefore);

                redis.start();
                ReadyEndpoint.await(port, r -> r.statusCode() == 200, "answered 200", relay);
                insert(60, 80);
                awaitDelivered(redis, relay);
                assertThat(Positions.inRedis("127.0.0.1", redis.port(), "outage:totals"))
                        .isEqualTo(Positions.inOutbox(db, "public.totals"));
            }
        }
    }

    private void insert(int from, int to) {
        for (int i = from; i < to; i++) {
            db.execute("INSERT INTO events (k, v) VALUES (" + (i % 5) + ", " + i + ")");
        }
    }

    private void awaitDelivered(PrivateRedisServer redis, RelayProcess relay) throws Exception {
        Thread.sleep(1000); // let the last refresh commit
        List<String> expected = Positions.inOutbox(db, "public.totals");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (Positions.inRedis("127.0.0.1", redis.port(), "outage:totals").size() < expected.size()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("not delivered within 60 s:\n" + relay.output());
            }
            Thread.sleep(100);
        }
    }
}
