package io.pgtrickle.core.outbox;

import static io.pgtrickle.core.outbox.OutboxFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.util.ServerErrorMessage;

/**
 * Retention removes an outbox entry once it is older than the outbox's retention and every group
 * reading the outbox has committed it (without groups, once it is old), with its side-table rows;
 * seek_offset cannot go back past what was removed; the running engine applies it by itself.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class OutboxRetentionIT {
    private final TestDatabase db;
    private final SqlCalls sql;

    OutboxRetentionIT(TestDatabase db) {
        this.db = db;
        this.sql = new SqlCalls(db);
    }

    private long retention(int maxRows) {
        return ((Number) db.value("SELECT pgtrickle._apply_outbox_retention(?)", maxRows)).longValue();
    }

    private List<Long> retained(String table) {
        return db.rows("SELECT outbox_offset FROM pgtrickle.pgt_outbox WHERE stream_table = ? ORDER BY 1", "public." + table)
                .stream().map(r -> ((Number) r.get(0)).longValue()).toList();
    }

    @Test
    void entriesGoOnlyOnceOlderThanTheRetentionAndCommittedByEveryGroup() {
        try (PgTrickleEngine engine = OutboxFixture.engine(db)) {
            OutboxFixture.streamTablesWithOutboxes(engine, db, 24, "orders", "payments");
        }
        OffsetDateTime old = OffsetDateTime.now().minusHours(25);
        long o1 = write(db, "orders", 1, old);
        long o2 = write(db, "orders", 5, old);   // over the inline threshold: side-table rows
        long o3 = write(db, "orders", 1, old);
        long young = write(db, "orders", 1);
        long p1 = write(db, "payments", 1, old);
        long p2 = write(db, "payments", 1);
        sql.create("fast", "orders", "earliest");
        sql.create("slow", "orders", "earliest");
        assertThat(sql.poll("fast", "f", 2)).containsExactly(o1, o2);
        sql.commit("fast", "f", o2);
        assertThat(sql.poll("slow", "s", 1)).containsExactly(o1);
        sql.commit("slow", "s", o1);

        // orders: only o1 is old and committed by both; payments has no group: its old entry goes.
        assertThat(retention(10_000)).isEqualTo(2);
        assertThat(retained("orders")).containsExactly(o2, o3, young);
        assertThat(retained("payments")).containsExactly(p2);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_outbox_changes WHERE outbox_offset = ?", o2)).isEqualTo(5L);
        assertThat(retention(10_000)).as("nothing more is due").isZero();

        assertThat(sql.poll("slow", "s", 10)).containsExactly(o2, o3, young);
        sql.commit("slow", "s", young);
        assertThat(sql.poll("fast", "f", 10)).containsExactly(o3, young);
        sql.commit("fast", "f", young);
        assertThat(retention(10_000)).as("o2 and o3; the young entry stays although committed").isEqualTo(2);
        assertThat(retained("orders")).containsExactly(young);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_outbox_changes WHERE outbox_offset = ?", o2))
                .as("side-table rows go with their entry").isEqualTo(0L);
        assertThat(db.rows("SELECT removed_through, rows_removed FROM pgtrickle.pgt_outbox_retention r"
                + " JOIN pgtrickle.pgt_stream_tables s USING (pgt_id) WHERE s.pgt_name = 'orders'"))
                .containsExactly(List.of(o3, 3L));

        // A replay cannot start before what was removed.
        ServerErrorMessage early = sql.refused("SELECT pgtrickle.seek_offset('slow', ?)", o1);
        assertThat(early.getMessage()).isEqualTo("cannot seek consumer group \"slow\" to offset " + o1
                + ": the outbox of public.orders retains entries after offset " + (young - 1) + " only");
        sql.seek("slow", young - 1);
        assertThat(sql.poll("slow", "s", 10)).containsExactly(young);
        sql.commit("slow", "s", young);

        // Once the outbox is empty, what was removed still bounds a seek and places a new group.
        db.execute("UPDATE pgtrickle.pgt_outbox SET created_at = created_at - interval '2 days'");
        assertThat(retention(10_000)).isEqualTo(2);   // young, and payments' p2
        assertThat(retained("orders")).isEmpty();
        assertThat(sql.refused("SELECT pgtrickle.seek_offset('slow', ?)", o3).getHint())
                .startsWith("seek to " + young + " or later");
        assertThat(sql.create("late", "orders", "earliest")).isEqualTo(young);
        assertThat(sql.create("later", "orders", "latest")).isEqualTo(young);
        long next = write(db, "orders", 1);
        assertThat(sql.poll("late", "l", 10)).containsExactly(next);
        assertThat(p1).isLessThan(p2);
    }

    @Test
    void eachCallRemovesAtMostMaxRowsPerOutbox() {
        try (PgTrickleEngine engine = OutboxFixture.engine(db)) {
            OutboxFixture.streamTablesWithOutboxes(engine, db, 1, "orders");
        }
        OffsetDateTime old = OffsetDateTime.now().minusHours(2);
        long e1 = write(db, "orders", 1, old);
        long e2 = write(db, "orders", 1, old);
        long e3 = write(db, "orders", 1, old);
        assertThat(retention(2)).isEqualTo(2);
        assertThat(retained("orders")).as("the oldest offsets first").containsExactly(e3);
        assertThat(retention(2)).isEqualTo(1);
        assertThat(retained("orders")).isEmpty();
        assertThat(e1).isLessThan(e2);
    }

    @Test
    void theRunningEngineAppliesRetentionByItself() {
        try (PgTrickleEngine setup = OutboxFixture.engine(db)) {
            OutboxFixture.streamTablesWithOutboxes(setup, db, 1, "orders");
        }
        OffsetDateTime old = OffsetDateTime.now().minusHours(2);
        write(db, "orders", 1, old);
        write(db, "orders", 3, old);
        long kept = write(db, "orders", 1);
        try (PgTrickleEngine engine = OutboxFixture.engine(db).start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> retained("orders").equals(List.of(kept)));
            assertThat(engine.outboxRetention().removed()).isEqualTo(2);
        }
    }
}
