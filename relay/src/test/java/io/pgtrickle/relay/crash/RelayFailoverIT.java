package io.pgtrickle.relay.crash;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.relay.testing.Changes;
import io.pgtrickle.relay.testing.KafkaTestCluster;
import io.pgtrickle.relay.testing.Positions;
import io.pgtrickle.relay.testing.ReadyEndpoint;
import io.pgtrickle.relay.testing.RelayProcess;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Two relays of one relay_group_id: one owns the pipeline, the other stands by; when the owner is
 * SIGKILLed the standby takes over within 5 s, and the target (Kafka, NATS JetStream, Redis) holds
 * every change of the outbox exactly once, in order. On Kafka both relays use one transactional.id,
 * so the standby's producer fences the dead owner's and aborts its open transaction.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class RelayFailoverIT {
    private static KafkaTestCluster kafka;

    private final TestDatabase classDb;

    RelayFailoverIT(TestDatabase classDb) {
        this.classDb = classDb;
    }

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
    void aStandbyTakesOverWithinFiveSecondsOfTheOwnersDeath(HaTarget target, @TempDir Path dir) throws Exception {
        // A database per target: each run has its own stream table, outbox and ownership rows.
        TestDatabase db = TestDatabase.create(classDb.server(),
                classDb.name() + "_" + target.name().toLowerCase(Locale.ROOT));
        HaTarget.Destination destination = target.destination("failover-" + Changes.suffix(), kafka);
        String pipeline = target.pipeline();
        try {
            db.execute("CREATE TABLE events (id bigserial PRIMARY KEY, k int NOT NULL, v int NOT NULL)");
            int portA = ReadyEndpoint.freePort();
            int portB = ReadyEndpoint.freePort();
            Path a = config(dir.resolve("a.toml"), db, portA, pipeline, destination);
            Path b = config(dir.resolve("b.toml"), db, portB, pipeline, destination);
            EngineConfig engineConfig = EngineConfig.of(db.jdbcUrl()).withSlotName("pgtrickle_" + db.name())
                    .withSchedulerTick(Duration.ofMillis(100));
            try (PgTrickleEngine engine = PgTrickleEngine.open(engineConfig).start();
                 RelayProcess owner = RelayProcess.start(a, dir.resolve("a.log"))) {
                engine.streamTables().create(StreamTableSpec.parse("totals",
                        "SELECT k, sum(v) AS total FROM events GROUP BY k", "250ms", "DIFFERENTIAL"));
                engine.outboxes().enable("totals");
                String running = "pipeline " + pipeline + ": running";
                ReadyEndpoint.await(portA, r -> r.body().contains(running), "said 'running'", owner);
                try (RelayProcess standby = RelayProcess.start(b, dir.resolve("b.log"))) {
                    ReadyEndpoint.await(portB, r -> r.body().contains("pipeline " + pipeline + ": standby"),
                            "said 'standby'", standby);
                    insert(db, 0, 50);
                    awaitCount(destination, expected(db).size());
                    owner.kill();
                    long killed = System.nanoTime();
                    ReadyEndpoint.await(portB, r -> r.body().contains(running), "said 'running'", standby);
                    Duration takeover = Duration.ofNanos(System.nanoTime() - killed);
                    System.out.println("RelayFailoverIT " + target + ": the standby took over " + takeover.toMillis()
                            + " ms after the kill");
                    assertThat(takeover).as("takeover time").isLessThan(Duration.ofSeconds(5));
                    insert(db, 50, 100);
                    awaitCount(destination, expected(db).size());
                    assertThat(standby.stop(Duration.ofSeconds(30))).as(standby.output()).isZero();
                }
                List<String> expected = expected(db);
                assertThat(expected).hasSizeGreaterThan(2);
                assertThat(destination.positions()).as("%s: every change once, in outbox order", target)
                        .isEqualTo(expected);
            }
        } finally {
            destination.cleanUp().run();
            db.drop();
        }
    }

    private static Path config(Path file, TestDatabase db, int port, String pipeline, HaTarget.Destination destination)
            throws Exception {
        return Files.writeString(file, """
                postgres_url = "%s"
                metrics_addr = "127.0.0.1:%d"
                relay_group_id = "failover"

                [[pipeline]]
                name = "%s"
                direction = "forward"
                [pipeline.source]
                stream_table = "totals"
                [pipeline.sink]
                %s""".formatted(db.jdbcUrl(), port, pipeline, destination.sinkToml()));
    }

    private static void insert(TestDatabase db, int from, int to) {
        for (int i = from; i < to; i++) {
            db.execute("INSERT INTO events (k, v) VALUES (" + (i % 7) + ", " + i + ")");
        }
    }

    private static List<String> expected(TestDatabase db) throws Exception {
        Thread.sleep(1000); // let the last refresh commit
        return Positions.inOutbox(db, "public.totals");
    }

    private static void awaitCount(HaTarget.Destination destination, int n) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (destination.positions().size() < n && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
    }
}
