package io.pgtrickle.core.inbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Processed events older than the inbox's retention are deleted, by the SQL function and by the
 * engine's periodic task; pending and dead-lettered events stay whatever their age.
 */
@ExtendWith(PostgresExtension.class)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class InboxRetentionIT {
    private static PgTrickleEngine engine;
    private final TestDatabase db;

    InboxRetentionIT(TestDatabase db) {
        this.db = db;
    }

    /** Not started until the last test: its first housekeeping tick runs retention. */
    @BeforeAll
    static void open(TestDatabase db) {
        engine = EngineFixture.open(db);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    /** Delivers e1..e5 and ages them: e1, e2 processed long ago, e3 processed just now, e4 dead, e5 pending. */
    private void deliverAged(String inbox, String hoursAgo) {
        String t = "pgtrickle." + inbox;
        db.execute("INSERT INTO " + t + " (event_id, event_type, received_at) SELECT 'e' || n, 'created',"
                        + " now() - interval '500 hours' FROM generate_series(1, 5) n",
                "UPDATE " + t + " SET processed_at = now() - interval '" + hoursAgo + " hours' WHERE event_id IN ('e1', 'e2')",
                "UPDATE " + t + " SET processed_at = now() WHERE event_id = 'e3'",
                "UPDATE " + t + " SET retry_count = 3, last_error = 'gave up' WHERE event_id = 'e4'");
    }

    @Test
    @Order(1)
    void processedEventsPastTheRetentionOfTheirInboxAreDeleted() {
        engine.inboxes().create(InboxSpec.of("short_lived").withRetentionHours(1));
        engine.inboxes().create(InboxSpec.of("long_lived"));
        deliverAged("short_lived", "2");
        deliverAged("long_lived", "2");

        assertThat(db.rows("SELECT inbox, deleted FROM pgtrickle._apply_inbox_retention() ORDER BY 1"))
                .containsExactly(List.of("long_lived", 0L), List.of("short_lived", 2L));

        assertThat(db.rows("SELECT event_id FROM pgtrickle.short_lived ORDER BY 1"))
                .containsExactly(List.of("e3"), List.of("e4"), List.of("e5"));
        assertThat(db.value("SELECT count(*) FROM pgtrickle.long_lived")).isEqualTo(5L);
        InboxStatus status = engine.inboxes().status("short_lived");
        assertThat(status.rowsExpired()).isEqualTo(2L);
        assertThat(status.retentionRunAt()).isNotNull();
        assertThat(List.of(status.total(), status.processed(), status.deadLettered(), status.pending()))
                .containsExactly(3L, 1L, 1L, 1L);

        engine.streamTables().refresh("pgtrickle.short_lived_stats");
        assertThat(db.rows("SELECT total, processed, dead_lettered, pending FROM pgtrickle.short_lived_stats"))
                .containsExactly(List.of(3L, 1L, 1L, 1L));
        assertThat(db.multisetDifference("SELECT event_type, total, pending, failed, dead_lettered, processed,"
                + " oldest_pending_at, last_received_at, last_processed_at FROM pgtrickle.short_lived_stats",
                (String) db.value("SELECT defining_query FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'short_lived_stats'")))
                .isEmpty();

        assertThat(db.rows("SELECT inbox, deleted FROM pgtrickle._apply_inbox_retention(max_rows => 1) ORDER BY 1"))
                .as("nothing left to delete").containsExactly(List.of("long_lived", 0L), List.of("short_lived", 0L));
        db.execute("UPDATE pgtrickle.long_lived SET processed_at = now() - interval '200 hours' WHERE event_id = 'e3'",
                "UPDATE pgtrickle.long_lived SET processed_at = now() - interval '100 hours' WHERE event_id = 'e1'");
        assertThat(db.rows("SELECT inbox, deleted FROM pgtrickle._apply_inbox_retention(max_rows => 1) ORDER BY 1"))
                .as("at most max_rows per inbox and call, oldest first")
                .containsExactly(List.of("long_lived", 1L), List.of("short_lived", 0L));
        assertThat(db.rows("SELECT event_id FROM pgtrickle.long_lived WHERE processed_at IS NOT NULL ORDER BY 1"))
                .containsExactly(List.of("e1"), List.of("e2"));
    }

    @Test
    @Order(2)
    void anInboxWhoseTableWasDroppedByHandDoesNotStopTheOthers() {
        engine.inboxes().create(InboxSpec.of("orphan").withStats(false).withDeadLetter(false));
        engine.streamTables().drop("pgtrickle.orphan_pending");
        db.execute("DROP TABLE pgtrickle.orphan");

        assertThat(db.rows("SELECT inbox, deleted FROM pgtrickle._apply_inbox_retention() ORDER BY 1"))
                .containsExactly(List.of("long_lived", 1L), List.of("orphan", 0L), List.of("short_lived", 0L));
        assertThat(engine.inboxes().drop("orphan", false)).isTrue();
    }

    @Test
    @Order(3)
    void theRunningEngineAppliesRetentionOnItsOwn() {
        engine.inboxes().create(InboxSpec.of("periodic").withRetentionHours(5));
        deliverAged("periodic", "6");

        engine.start();

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(
                db.rows("SELECT event_id FROM pgtrickle.periodic ORDER BY 1"))
                .containsExactly(List.of("e3"), List.of("e4"), List.of("e5")));
        assertThat(engine.inboxes().status("periodic").rowsExpired()).isEqualTo(2L);
    }
}
