package io.pgtrickle.core.inbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.lifecycle.RefreshMode;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The inbox's stream tables stay equal to a fresh run of their defining queries while events are
 * inserted, redelivered, processed, failed, dead-lettered and replayed, each refresh differential.
 */
@ExtendWith(PostgresExtension.class)
class InboxStreamTablesIT {
    private static final String COLUMNS = "event_id, event_type, source, aggregate_id, payload, headers, received_at,"
            + " processed_at, retry_count, last_error";
    private static PgTrickleEngine engine;
    private static Inboxes inboxes;
    private final TestDatabase db;

    InboxStreamTablesIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void open(TestDatabase db) {
        engine = EngineFixture.open(db);
        inboxes = engine.inboxes();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @BeforeEach
    void clean() {
        for (String name : inboxes.list()) {
            inboxes.drop(name, true);
        }
        EngineFixture.dropAllStreamTables(engine.streamTables());
    }

    @Test
    void pendingDeadLetterAndStatsFollowEveryKindOfChangeDifferentially() {
        InboxStatus status = inboxes.create(InboxSpec.of("orders_inbox").withMaxRetries(2));
        assertThat(status.streamTables()).containsExactly("pgtrickle.orders_inbox_dlq",
                "pgtrickle.orders_inbox_pending", "pgtrickle.orders_inbox_stats");
        assertThat(status.ready()).isTrue();
        for (String st : status.streamTables()) {
            StreamTableRecord r = engine.streamTables().require(QualifiedName.parse(st));
            assertThat(r.refreshMode()).as(st).isEqualTo(RefreshMode.DIFFERENTIAL);
            assertThat(r.effectiveMode()).as(st).isEqualTo(RefreshMode.DIFFERENTIAL);
        }

        Random random = new Random(12);
        List<String> ids = new ArrayList<>();
        for (int round = 0; round < 12; round++) {
            List<InboxEvent> batch = new ArrayList<>();
            for (int i = 0; i < 15; i++) {
                String id = "e" + random.nextInt(120);
                String type = random.nextInt(5) == 0 ? null : "type" + random.nextInt(3);
                batch.add(new InboxEvent(id, type, "topic", "agg" + random.nextInt(6),
                        "{\"n\": " + random.nextInt(100) + "}", null));
                ids.add(id);
            }
            inboxes.insert("orders_inbox", batch);
            for (int i = 0; i < 10; i++) {
                String id = ids.get(random.nextInt(ids.size()));
                switch (random.nextInt(4)) {
                    case 0 -> inboxes.markProcessed("orders_inbox", id);
                    case 1, 2 -> {
                        if (db.value("SELECT processed_at IS NULL FROM pgtrickle.orders_inbox WHERE event_id = ?", id)
                                .equals(true)) {
                            inboxes.markFailed("orders_inbox", id, "boom " + round);
                        }
                    }
                    default -> inboxes.replay("orders_inbox", List.of(id, "unknown"));
                }
            }
            refreshAndCompare(status.streamTables(), "round " + round);
        }
        assertThat(db.value("SELECT count(*) FROM pgtrickle.orders_inbox_dlq")).isNotEqualTo(0L);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.orders_inbox WHERE processed_at IS NOT NULL"))
                .isNotEqualTo(0L);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE action = 'FULL'"
                + " AND trigger <> 'CREATE'")).as("every refresh after the first is differential").isEqualTo(0L);
    }

    private void refreshAndCompare(List<String> streamTables, String when) {
        for (String st : streamTables) {
            engine.streamTables().refresh(st);
            String query = (String) db.value("SELECT defining_query FROM pgtrickle.pgt_stream_tables"
                    + " WHERE quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) = ?", st);
            String columns = st.endsWith("_stats") ? "event_type, total, pending, failed, dead_lettered, processed,"
                    + " oldest_pending_at, last_received_at, last_processed_at" : COLUMNS;
            assertThat(db.multisetDifference("SELECT " + columns + " FROM " + st, query)).as(st + " after " + when)
                    .isEmpty();
        }
    }
}
