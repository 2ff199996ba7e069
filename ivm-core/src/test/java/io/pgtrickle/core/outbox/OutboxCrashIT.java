package io.pgtrickle.core.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.EngineProcess;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The engine process is killed (SIGKILL) after a refresh's MERGE and before its commit, while the
 * refresh's statement, its rows and entry written, waits for the end-of-statement check of the
 * entry's reference to the outbox: neither the change nor the entry remains, and the restarted
 * engine's next refresh publishes the delta exactly once.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class OutboxCrashIT {
    @Test
    void anEngineKilledBetweenMergeAndCommitLeavesNoEntryAndTheNextRefreshPublishesItOnce(TestDatabase db,
                                                                                        @TempDir Path dir) throws Exception {
        db.execute("DROP TABLE IF EXISTS orders CASCADE",
                "CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, amount numeric(10,2) NOT NULL)",
                "INSERT INTO orders VALUES (1, 'Ada', 10), (2, 'Bob', 20)");
        long id;
        try (PgTrickleEngine setup = EngineFixture.open(db)) {
            EngineFixture.dropAllStreamTables(setup.streamTables());
            setup.streamTables().create(StreamTableSpec.parse("totals",
                    "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer", "1s", "DIFFERENTIAL"));
            setup.outboxes().enable("totals");
            id = (Long) db.value("SELECT pgt_id FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'totals'");
        }

        Path output = dir.resolve("engine.log");
        Process engine;
        try (Connection holder = db.connect(); Statement s = holder.createStatement()) {
            // Locks the outbox's configuration row: the engine's next refresh MERGEs and writes its entry,
            // then waits for it in the entry's foreign-key check, at the end of the statement.
            holder.setAutoCommit(false);
            s.execute("SELECT 1 FROM pgtrickle.pgt_outbox_config WHERE pgt_id = " + id + " FOR UPDATE");
            engine = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), EngineProcess.class.getName(), db.jdbcUrl(),
                    EngineFixture.config(db).slotName())
                    .redirectErrorStream(true).redirectOutput(output.toFile()).start();
            try {
                await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(output).contains("READY"));
                db.execute("UPDATE orders SET amount = 15 WHERE id = 1");
                // (The statement's text, as pg_stat_activity keeps it, is cut short of the outbox part.)
                await().atMost(Duration.ofSeconds(60)).until(() -> (Long) db.value("SELECT count(*) FROM pg_stat_activity"
                        + " WHERE wait_event_type = 'Lock' AND query LIKE 'WITH __pgt_m AS (MERGE INTO%'") == 1L);
            } finally {
                engine.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        } // the lock is released: the orphaned refresh runs on, finds its client gone and rolls back
        assertThat(engine.exitValue()).as("killed, not stopped").isEqualTo(137);
        await().atMost(Duration.ofSeconds(30)).until(() -> (Long) db.value("SELECT count(*) FROM pg_stat_activity"
                + " WHERE query LIKE 'WITH __pgt_m AS (MERGE INTO%' AND state = 'active'") == 0L);

        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_outbox")).as("only the starting entry").isEqualTo(1L);
        assertThat(db.value("SELECT total FROM totals WHERE customer = 'Ada'")).isEqualTo(new BigDecimal("10.00"));

        try (PgTrickleEngine restarted = EngineFixture.open(db)) {
            restarted.streamTables().refresh("totals");
            List<OutboxDelta> entries = restarted.outboxes().read("totals", 0, 100);
            assertThat(entries).hasSize(2);
            assertThat(entries.get(1).changes()).extracting(OutboxChange::op, OutboxChange::key)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("update", "{\"customer\": \"Ada\"}"));
            restarted.streamTables().refresh("totals");
            assertThat(restarted.outboxes().read("totals", 0, 100)).as("published once").hasSize(2);
            new OutboxReplay().apply(entries).assertReproduces(db, "totals");
            assertThat(db.value("SELECT total FROM totals WHERE customer = 'Ada'")).isEqualTo(new BigDecimal("15.00"));
        }
    }
}
