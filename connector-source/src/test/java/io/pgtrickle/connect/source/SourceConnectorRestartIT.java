package io.pgtrickle.connect.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.connect.testing.ConnectTestCluster;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker replaced and the task restarted while the engine refreshes a stream table under a
 * steady stream of writes: a read_committed consumer still sees every outbox change exactly once,
 * in outbox order (so in order per key). A small batch.size makes refreshes span several polls, so
 * transactions that are open when the worker goes are exercised too.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SourceConnectorRestartIT {
    private static final long SEED = Long.getLong("pgtrickle.seed", 20261202L);
    private static final String TOPIC = "pgtrickle.public.totals";

    @Test
    void everyChangeArrivesOnceInOrderAcrossAWorkerReplacementAndATaskRestart(TestDatabase db, @TempDir Path dir)
            throws Exception {
        db.execute("CREATE TABLE events (id bigserial PRIMARY KEY, k int NOT NULL, v int NOT NULL)");
        EngineConfig engineConfig = EngineConfig.of(db.jdbcUrl()).withSlotName("pgtrickle_" + db.name())
                .withSchedulerTick(Duration.ofMillis(100));
        try (PgTrickleEngine engine = PgTrickleEngine.open(engineConfig).start();
             ConnectTestCluster connect = ConnectTestCluster.start(dir,
                     List.of(Path.of(System.getProperty("pgtrickle.plugin.archive"))))) {
            engine.streamTables().create(StreamTableSpec.parse("totals",
                    "SELECT k, sum(v) AS total, count(*) AS n FROM events GROUP BY k", "250ms", "DIFFERENTIAL"));
            engine.outboxes().enable("totals", 24, 20);
            connect.configure("crash", config(db));
            connect.awaitRunning("crash", 1);
            AtomicBoolean writing = new AtomicBoolean(true);
            Thread writer = new Thread(() -> write(db, writing, new Random(SEED)), "writer");
            writer.start();
            try {
                Thread.sleep(3000);
                connect.replaceWorker();
                connect.awaitRunning("crash", 1);
                Thread.sleep(2000);
                connect.cluster().restartTask("crash", 0);
                connect.awaitRunning("crash", 1);
                Thread.sleep(2000);
            } finally {
                writing.set(false);
                writer.join();
            }
            Thread.sleep(1500); // the last writes reach the outbox
            List<String> expected = Outbox.positions(db, "public.totals");
            assertThat(expected).hasSizeGreaterThan(50);
            List<ConsumerRecord<byte[], byte[]>> records = connect.readCommitted(TOPIC, expected.size(), Duration.ofSeconds(60));
            records = connect.readCommitted(TOPIC, records.size() + 1, Duration.ofSeconds(3)); // a duplicate would show
            System.out.printf("SourceConnectorRestartIT seed %d: %d outbox changes, %d records%n", SEED, expected.size(),
                    records.size());
            assertThat(Outbox.positionsOf(records)).as("every change once, in outbox order").isEqualTo(expected);
        }
    }

    private static Map<String, String> config(TestDatabase db) {
        Map<String, String> c = new HashMap<>();
        c.put("connector.class", PgTrickleSourceConnector.class.getName());
        c.put("tasks.max", "1");
        c.put("connection.url", db.jdbcUrl());
        c.put("stream.tables", "totals");
        c.put("batch.size", "7");
        c.put("poll.interval.ms", "50");
        c.put("exactly.once.support", "required");
        c.put("transaction.boundary", "connector");
        c.put("topic.creation.default.replication.factor", "-1");
        c.put("topic.creation.default.partitions", "-1");
        return c;
    }

    private static void write(TestDatabase db, AtomicBoolean writing, Random random) {
        try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement("INSERT INTO events (k, v) VALUES (?, ?)")) {
            while (writing.get()) {
                ps.setInt(1, random.nextInt(20));
                ps.setInt(2, random.nextInt(100) - 20);
                ps.executeUpdate();
                Thread.sleep(5);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
