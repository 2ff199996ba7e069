package io.pgtrickle.core.inbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.io.IOException;
import java.io.StringReader;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.copy.CopyManager;
import org.postgresql.core.BaseConnection;

/** A redelivered event is a no-op: never an error, never a second row, sequentially or concurrently. */
@ExtendWith(PostgresExtension.class)
class InboxIdempotencyIT {
    private static PgTrickleEngine engine;
    private final TestDatabase db;

    InboxIdempotencyIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void open(TestDatabase db) {
        engine = EngineFixture.open(db);
        engine.inboxes().create(InboxSpec.of("orders_inbox").withStats(false).withDeadLetter(false));
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @BeforeEach
    void empty() {
        db.execute("DELETE FROM pgtrickle.orders_inbox");
    }

    @Test
    void aPlainInsertOfAnEventIdTheInboxHoldsInsertsNothing() throws SQLException, IOException {
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            assertThat(s.executeUpdate("INSERT INTO pgtrickle.orders_inbox (event_id, payload) VALUES ('e1', '{\"v\": 1}')"))
                    .isEqualTo(1);
            assertThat(s.executeUpdate("INSERT INTO pgtrickle.orders_inbox (event_id, payload) VALUES ('e1', '{\"v\": 2}')"))
                    .isEqualTo(0);
            assertThat(s.executeUpdate("INSERT INTO pgtrickle.orders_inbox (event_id, payload)"
                    + " VALUES ('e2', '{\"v\": 1}'), ('e2', '{\"v\": 2}'), ('e1', '{\"v\": 3}')"))
                    .as("a repeat within one statement, and one of an earlier statement").isEqualTo(1);
            assertThat(s.executeUpdate("INSERT INTO pgtrickle.orders_inbox (event_id) VALUES ('e2'), ('e3')"
                    + " ON CONFLICT (event_id) DO NOTHING")).isEqualTo(1);
            CopyManager copy = new CopyManager(c.unwrap(BaseConnection.class));
            assertThat(copy.copyIn("COPY pgtrickle.orders_inbox (event_id) FROM STDIN", new StringReader("e3\ne1\ne4\n")))
                    .as("COPY too").isEqualTo(1);
        }
        assertThat(db.rows("SELECT event_id, payload::text FROM pgtrickle.orders_inbox ORDER BY 1")).containsExactly(
                List.of("e1", "{\"v\": 1}"), List.of("e2", "{\"v\": 1}"), java.util.Arrays.asList("e3", null),
                java.util.Arrays.asList("e4", null));
    }

    @Test
    void aRoleThatMayOnlyInsertCanDeliverAndRedeliver() throws SQLException {
        db.execute("DROP ROLE IF EXISTS inbox_deliverer", "CREATE ROLE inbox_deliverer",
                "GRANT USAGE ON SCHEMA pgtrickle TO inbox_deliverer",
                "GRANT INSERT ON pgtrickle.orders_inbox TO inbox_deliverer");
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("SET ROLE inbox_deliverer");
            assertThat(s.executeUpdate("INSERT INTO pgtrickle.orders_inbox (event_id) VALUES ('e1')")).isEqualTo(1);
            assertThat(s.executeUpdate("INSERT INTO pgtrickle.orders_inbox (event_id) VALUES ('e1')")).isEqualTo(0);
            assertThat(s.executeUpdate("INSERT INTO pgtrickle.orders_inbox (event_id) VALUES ('e1'), ('e2')"
                    + " ON CONFLICT DO NOTHING")).isEqualTo(1);
            // PostgreSQL's rule: a conflict target needs SELECT on its columns.
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.executeUpdate("INSERT INTO pgtrickle.orders_inbox"
                    + " (event_id) VALUES ('e3') ON CONFLICT (event_id) DO NOTHING")).hasMessageContaining("permission denied");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> s.executeQuery("SELECT * FROM pgtrickle.orders_inbox"))
                    .hasMessageContaining("permission denied");
        }
        assertThat(db.value("SELECT count(*) FROM pgtrickle.orders_inbox")).isEqualTo(2L);
    }

    @Test
    void aRedeliveryOfAProcessedEventLeavesItProcessed() {
        db.execute("INSERT INTO pgtrickle.orders_inbox (event_id) VALUES ('e1')");
        engine.inboxes().markProcessed("orders_inbox", "e1");
        Object processedAt = db.value("SELECT processed_at FROM pgtrickle.orders_inbox");

        db.execute("INSERT INTO pgtrickle.orders_inbox (event_id) VALUES ('e1')");
        assertThat(engine.inboxes().insert("orders_inbox", List.of(InboxEvent.of("e1", "created", "{}"),
                InboxEvent.of("e2", "created", "{}")))).isEqualTo(1);

        assertThat(db.rows("SELECT event_id, processed_at IS NOT NULL FROM pgtrickle.orders_inbox ORDER BY 1"))
                .containsExactly(List.of("e1", true), List.of("e2", false));
        assertThat(db.value("SELECT processed_at FROM pgtrickle.orders_inbox WHERE event_id = 'e1'")).isEqualTo(processedAt);
    }

    @Test
    void onConflictDoNothingWaitsForAConcurrentInsertOfTheSameEventAndThenInsertsNothing() throws Exception {
        try (Connection first = db.connect(); Connection second = db.connect()) {
            first.setAutoCommit(false);
            assertThat(insert(first, "INSERT INTO pgtrickle.orders_inbox (event_id, payload) VALUES ('e1', '{\"by\": 1}')"
                    + " ON CONFLICT (event_id) DO NOTHING")).isEqualTo(1);
            // Not committed: the second one's trigger cannot see it and lets the row through to the key.
            Future<Integer> racing = CompletableFuture.supplyAsync(() -> insert(second,
                    "INSERT INTO pgtrickle.orders_inbox (event_id, payload) VALUES ('e1', '{\"by\": 2}')"
                            + " ON CONFLICT (event_id) DO NOTHING"));
            awaitBlockedOnTheKey();
            assertThat(racing.isDone()).isFalse();
            first.commit();
            assertThat(racing.get(10, TimeUnit.SECONDS)).isEqualTo(0);
        }
        assertThat(db.rows("SELECT event_id, payload::text FROM pgtrickle.orders_inbox"))
                .containsExactly(List.of("e1", "{\"by\": 1}"));
    }

    @Test
    void manyWritersDeliveringTheSameEventsAtOnceLeaveOneRowEachAndNoError() throws Exception {
        int writers = 8;
        int events = 100;
        AtomicInteger inserted = new AtomicInteger();
        List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                done.add(pool.submit(() -> {
                    List<InboxEvent> batch = new ArrayList<>();
                    for (int i = 0; i < events; i++) {
                        // Each writer delivers every event, in its own order, in batches of ten.
                        int n = (i * (writer + 3) + writer) % events;
                        batch.add(new InboxEvent("e" + n, "t", "writer" + writer, null, null, null));
                        if (batch.size() == 10) {
                            try {
                                inserted.addAndGet(engine.inboxes().insert("orders_inbox", batch));
                            } catch (RuntimeException e) {
                                errors.add(e);
                            }
                            batch.clear();
                        }
                    }
                }));
            }
            for (Future<?> f : done) {
                f.get(60, TimeUnit.SECONDS);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(errors).isEmpty();
        assertThat(inserted.get()).isEqualTo(events);
        assertThat(db.value("SELECT count(DISTINCT event_id) = count(*) AND count(*) = ? FROM pgtrickle.orders_inbox",
                (long) events)).isEqualTo(true);
    }

    /**
     * The documented limit: a plain INSERT (without ON CONFLICT) racing another transaction's
     * uncommitted insert of the same new event_id fails with unique_violation once that one commits.
     * (Sequential repeats are skipped by the trigger, see above.)
     */
    @Test
    void aPlainInsertRacingAnUncommittedInsertOfTheSameEventFailsOnTheKey() throws Exception {
        try (Connection first = db.connect(); Connection second = db.connect()) {
            first.setAutoCommit(false);
            insert(first, "INSERT INTO pgtrickle.orders_inbox (event_id) VALUES ('e1')");
            Future<Integer> racing = CompletableFuture.supplyAsync(() -> insert(second,
                    "INSERT INTO pgtrickle.orders_inbox (event_id) VALUES ('e1')"));
            awaitBlockedOnTheKey();
            first.commit();
            assertThat(racing).failsWithin(10, TimeUnit.SECONDS).withThrowableThat()
                    .withMessageContaining("duplicate key value violates unique constraint \"orders_inbox_pkey\"");
        }
        assertThat(db.value("SELECT count(*) FROM pgtrickle.orders_inbox")).isEqualTo(1L);
    }

    private static int insert(Connection c, String sql) {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            return ps.executeUpdate();
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Waits until a session waits for another transaction (the inserter of the same key). */
    private void awaitBlockedOnTheKey() {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).until(() -> (Long) db.value(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                        + " AND wait_event_type = 'Lock' AND wait_event = 'transactionid'") == 1L);
    }
}
