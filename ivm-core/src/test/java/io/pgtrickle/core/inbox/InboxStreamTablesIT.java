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
        EngineFixture.dropAllStreamTables(engine.streamTables());
        for (String name : inboxes.list()) {
            inboxes.drop(name, true);
        }
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

    @Test
    void orderingShowsTheNextPendingEventOfEachAggregateAndItsGaps() {
        inboxes.create(InboxSpec.of("ledger").withStats(false).withMaxRetries(1));
        db.execute("ALTER TABLE pgtrickle.ledger ADD COLUMN seq bigint");
        inboxes.enableOrdering("ledger", "aggregate_id", "seq");

        InboxStatus status = inboxes.status("ledger");
        assertThat(status.streamTables()).containsExactly("pgtrickle.ledger_dlq", "pgtrickle.ledger_gaps",
                "pgtrickle.ledger_next", "pgtrickle.ledger_pending");
        assertThat(List.of(status.aggregateIdColumn(), status.sequenceColumn())).containsExactly("aggregate_id", "seq");
        for (String st : List.of("pgtrickle.ledger_next", "pgtrickle.ledger_gaps")) {
            assertThat(engine.streamTables().require(QualifiedName.parse(st)).effectiveMode()).as(st)
                    .isEqualTo(RefreshMode.DIFFERENTIAL);
        }
        deliver("a1-1", "acct1", 1, "a1-2", "acct1", 2, "a1-3", "acct1", 3, "a2-1", "acct2", 1, "a2-3", "acct2", 3,
                "a3-5", "acct3", 5);
        db.execute("INSERT INTO pgtrickle.ledger (event_id, aggregate_id, seq) VALUES ('loose', NULL, 1), ('unnumbered', 'acct4', NULL)");
        assertOrdering(List.of(List.of("acct1", 1L), List.of("acct2", 1L), List.of("acct3", 5L)), List.of());

        inboxes.markProcessed("ledger", "a1-1");
        inboxes.markProcessed("ledger", "a2-1");
        assertOrdering(List.of(List.of("acct1", 2L), List.of("acct2", 3L), List.of("acct3", 5L)),
                List.of(List.of("acct2", 3L, 1L)));

        assertThat(inboxes.markFailed("ledger", "a1-2", "down")).isEqualTo(new FailedAttempt(1, true));
        assertOrdering(List.of(List.of("acct1", 3L), List.of("acct2", 3L), List.of("acct3", 5L)),
                List.of(List.of("acct1", 3L, 1L), List.of("acct2", 3L, 1L)));

        deliver("a2-2", "acct2", 2);
        assertOrdering(List.of(List.of("acct1", 3L), List.of("acct2", 2L), List.of("acct3", 5L)),
                List.of(List.of("acct1", 3L, 1L)));

        assertThat(inboxes.replay("ledger", List.of("a1-2"))).isEqualTo(1);
        assertOrdering(List.of(List.of("acct1", 2L), List.of("acct2", 2L), List.of("acct3", 5L)), List.of());

        Random random = new Random(7);
        for (int round = 0; round < 8; round++) {
            for (int i = 0; i < 6; i++) {
                int account = random.nextInt(4);
                int seq = 1 + random.nextInt(8);
                deliver("r" + account + "-" + seq, "acct" + account, seq);
            }
            List<Object> pending = db.rows("SELECT event_id FROM pgtrickle.ledger WHERE processed_at IS NULL"
                    + " AND retry_count < 1 ORDER BY event_id").stream().map(r -> r.get(0)).toList();
            for (int i = 0; i < 4 && !pending.isEmpty(); i++) {
                String id = (String) pending.get(random.nextInt(pending.size()));
                if (random.nextBoolean()) {
                    inboxes.markProcessed("ledger", id);
                } else if (db.value("SELECT processed_at IS NULL FROM pgtrickle.ledger WHERE event_id = ?", id)
                        .equals(true)) {
                    inboxes.markFailed("ledger", id, "again");
                }
            }
            refreshAndCompare(status.streamTables(), "round " + round);
        }

        assertThat(inboxes.disableOrdering("ledger", false)).isTrue();
        assertThat(inboxes.status("ledger").streamTables()).containsExactly("pgtrickle.ledger_dlq",
                "pgtrickle.ledger_pending");
        assertThat(db.value("SELECT to_regclass('pgtrickle.ledger_next') IS NULL AND to_regclass('pgtrickle.ledger_gaps')"
                + " IS NULL")).isEqualTo(true);
        assertThat(inboxes.disableOrdering("ledger", true)).isFalse();
    }

    /** Delivers (event_id, aggregate, sequence) triples; a redelivery is skipped. */
    private void deliver(Object... triples) {
        for (int i = 0; i < triples.length; i += 3) {
            db.rows("INSERT INTO pgtrickle.ledger (event_id, aggregate_id, seq) VALUES (?, ?, ?)"
                    + " ON CONFLICT (event_id) DO NOTHING RETURNING 1", triples[i], triples[i + 1],
                    ((Number) triples[i + 2]).longValue());
        }
    }

    private void assertOrdering(List<List<Object>> next, List<List<Object>> gaps) {
        refreshAndCompare(List.of("pgtrickle.ledger_next", "pgtrickle.ledger_gaps"), "a change");
        assertThat(db.rows("SELECT aggregate_id, seq FROM pgtrickle.ledger_next ORDER BY 1")).isEqualTo(next);
        assertThat(db.rows("SELECT aggregate_id, next_sequence, last_processed_sequence FROM pgtrickle.ledger_gaps"
                + " ORDER BY 1")).isEqualTo(gaps);
    }

    private void refreshAndCompare(List<String> streamTables, String when) {
        for (String st : streamTables) {
            engine.streamTables().refresh(st);
            String query = (String) db.value("SELECT defining_query FROM pgtrickle.pgt_stream_tables"
                    + " WHERE quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) = ?", st);
            String columns = st.endsWith("_stats") ? "event_type, total, pending, failed, dead_lettered, processed,"
                    + " oldest_pending_at, last_received_at, last_processed_at"
                    : st.endsWith("_gaps") ? "aggregate_id, next_sequence, last_processed_sequence"
                    : st.endsWith("_next") ? COLUMNS + ", seq" : COLUMNS;
            assertThat(db.multisetDifference("SELECT " + columns + " FROM " + st, query)).as(st + " after " + when)
                    .isEmpty();
        }
    }
}
