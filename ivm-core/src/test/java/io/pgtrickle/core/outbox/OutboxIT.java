package io.pgtrickle.core.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every refresh of a stream table with an outbox writes its row-level delta, in the refresh's
 * transaction: one entry per non-empty delta, keyed by the group key where there is one, a changed
 * row as one update with both images, a FULL refresh as the difference it applied, large deltas in
 * the side table; replaying the outbox reproduces the stream table.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class OutboxIT {
    private final TestDatabase db;

    OutboxIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void schema() {
        db.execute("DROP TABLE IF EXISTS orders CASCADE",
                "CREATE TABLE orders (id int PRIMARY KEY, customer text NOT NULL, amount numeric(10,2) NOT NULL)",
                "INSERT INTO orders SELECT g, 'c' || (g % 3), g FROM generate_series(1, 9) g");
    }

    private static List<OutboxDelta> all(Outboxes outboxes, String name) {
        return outboxes.read(name, 0, 10_000);
    }

    @Test
    void theFirstEntryHoldsTheContentsAndEachRefreshAppendsItsDeltaKeyedByTheGroup() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("totals", "SELECT customer, sum(amount) AS total, count(*) AS n"
                    + " FROM orders GROUP BY customer", "1h", "DIFFERENTIAL"));
            Outboxes outboxes = engine.outboxes();
            outboxes.enable("totals");

            List<OutboxDelta> start = all(outboxes, "totals");
            assertThat(start).hasSize(1);
            assertThat(start.get(0).refreshId()).isNull();
            assertThat(start.get(0).changes()).extracting(OutboxChange::op).containsOnly("insert").hasSize(3);
            assertThat(start.get(0).changes()).extracting(OutboxChange::key)
                    .containsExactly("{\"customer\": \"c0\"}", "{\"customer\": \"c1\"}", "{\"customer\": \"c2\"}");

            db.execute("UPDATE orders SET amount = amount + 1 WHERE id = 1", // c1 changes
                    "INSERT INTO orders VALUES (10, 'c9', 5)", // c9 appears
                    "DELETE FROM orders WHERE customer = 'c2'"); // c2 goes
            api.refresh("totals");
            List<OutboxDelta> entries = all(outboxes, "totals");
            assertThat(entries).hasSize(2);
            OutboxDelta delta = entries.get(1);
            assertThat(delta.fullRefresh()).isFalse();
            assertThat(delta.refreshId()).isEqualTo(db.value("SELECT max(refresh_id) FROM pgtrickle.pgt_refresh_history"
                    + " WHERE pgt_name = 'totals'"));
            assertThat(delta.changes()).extracting(OutboxChange::op, OutboxChange::key).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("update", "{\"customer\": \"c1\"}"),
                    org.assertj.core.groups.Tuple.tuple("delete", "{\"customer\": \"c2\"}"),
                    org.assertj.core.groups.Tuple.tuple("insert", "{\"customer\": \"c9\"}"));
            OutboxChange update = delta.changes().get(0);
            assertThat(update.before()).isEqualTo("{\"n\": 3, \"total\": 12.00, \"customer\": \"c1\"}");
            assertThat(update.after()).isEqualTo("{\"n\": 3, \"total\": 13.00, \"customer\": \"c1\"}");
            assertThat(db.value("SELECT inserted || '/' || updated || '/' || deleted || '/' || row_count"
                    + " FROM pgtrickle.pgt_outbox WHERE outbox_offset = ?", delta.offset())).isEqualTo("1/1/1/3");

            new OutboxReplay().apply(entries).assertReproduces(db, "totals");
        }
    }

    @Test
    void rowImagesKeepColumnNamesWithQuotesAndBackslashesAndEqualTheRowsAsJsonb() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("odd", "SELECT customer AS \"it's \"\"odd\"\"\", sum(amount) AS \"back\\slash\","
                    + " array_agg(id ORDER BY id) AS ids FROM orders GROUP BY customer", "1h", "DIFFERENTIAL"));
            Outboxes outboxes = engine.outboxes();
            outboxes.enable("odd");
            db.execute("UPDATE orders SET amount = amount + 1 WHERE id = 1", "DELETE FROM orders WHERE customer = 'c2'");
            api.refresh("odd");
            List<OutboxDelta> entries = all(outboxes, "odd");
            assertThat(entries).hasSize(2);
            OutboxChange update = entries.get(1).changes().stream().filter(ch -> ch.op().equals("update")).findFirst()
                    .orElseThrow();
            assertThat(update.after()).isEqualTo(db.value("SELECT (to_jsonb(o) - '{__pgt_row_id,__pgt_h}'::text[])::text"
                    + " FROM odd o WHERE \"it's \"\"odd\"\"\" = 'c1'"));
            assertThat(update.after()).contains("\"it's \\\"odd\\\"\"", "\"back\\\\slash\"", "\"ids\": [1, 4, 7]");
            assertThat(entries.get(1).changes()).extracting(OutboxChange::op).containsExactly("update", "delete");
            assertThat(entries.get(1).changes().get(1).after()).isNull();
            new OutboxReplay().apply(entries).assertReproduces(db, "odd");
        }
    }

    @Test
    void aNewQueryPublishesTheDifferenceAsAFullEntryOfTheAlteringRefresh() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("totals", "SELECT customer, sum(amount) AS total FROM orders GROUP BY customer",
                    "1h", "DIFFERENTIAL"));
            Outboxes outboxes = engine.outboxes();
            outboxes.enable("totals");
            // Without c0's orders: c0 goes, the other totals stay.
            api.alter("totals", io.pgtrickle.core.lifecycle.AlterSpec.none().withQuery(
                    "SELECT customer, sum(amount) AS total FROM orders WHERE customer <> 'c0' GROUP BY customer"));
            List<OutboxDelta> entries = all(outboxes, "totals");
            assertThat(entries).hasSize(2);
            OutboxDelta altered = entries.get(1);
            assertThat(altered.fullRefresh()).isTrue();
            assertThat(altered.refreshId()).isEqualTo(db.value("SELECT max(refresh_id) FROM pgtrickle.pgt_refresh_history"
                    + " WHERE pgt_name = 'totals'"));
            assertThat(altered.changes()).extracting(OutboxChange::op, OutboxChange::key)
                    .containsExactly(org.assertj.core.groups.Tuple.tuple("delete", "{\"customer\": \"c0\"}"));
            new OutboxReplay().apply(entries).assertReproduces(db, "totals");
        }
    }

    @Test
    void anEmptyDeltaWritesNothingAndAFullRefreshPublishesOnlyTheDifference() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("big", "SELECT id, amount FROM orders WHERE amount > 5", "1h", "FULL"));
            Outboxes outboxes = engine.outboxes();
            outboxes.enable("big");
            api.refresh("big");
            db.execute("UPDATE orders SET customer = 'x' WHERE id = 9"); // not an output column: no change
            api.refresh("big");
            assertThat(all(outboxes, "big")).hasSize(1);

            db.execute("UPDATE orders SET amount = 100 WHERE id = 9", "INSERT INTO orders VALUES (20, 'c', 50)");
            api.refresh("big");
            List<OutboxDelta> entries = all(outboxes, "big");
            assertThat(entries).hasSize(2);
            OutboxDelta full = entries.get(1);
            assertThat(full.fullRefresh()).isTrue();
            // Row ids are content hashes here: a changed row leaves and another comes.
            assertThat(full.changes()).extracting(OutboxChange::op).containsExactlyInAnyOrder("delete", "insert", "insert");
            new OutboxReplay().apply(entries).assertReproduces(db, "big");
        }
    }

    @Test
    void aDeltaOverTheInlineThresholdGoesToTheSideTableAndIsReadInPages() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("rows", "SELECT id, amount FROM orders", "1h", "DIFFERENTIAL"));
            Outboxes outboxes = engine.outboxes();
            outboxes.enable("rows", 24, 5);
            db.execute("INSERT INTO orders SELECT g, 'bulk', g FROM generate_series(100, 2599) g");
            api.refresh("rows");
            List<OutboxDelta> entries = all(outboxes, "rows");
            assertThat(entries).hasSize(2);
            assertThat(entries.get(0).changes()).hasSize(9); // the starting contents: over 5 rows, in the side table too
            assertThat(entries.get(1).changes()).hasSize(2500);
            assertThat(db.value("SELECT changes IS NULL FROM pgtrickle.pgt_outbox WHERE outbox_offset = ?",
                    entries.get(1).offset())).isEqualTo(true);
            assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_outbox_changes WHERE outbox_offset = ?",
                    entries.get(1).offset())).isEqualTo(2500L);
            assertThat(db.value("SELECT count(*) FROM pgtrickle.outbox_changes(?, 1999, 1000)", entries.get(1).offset()))
                    .isEqualTo(500L);
            new OutboxReplay().apply(entries).assertReproduces(db, "rows");

            db.execute("DELETE FROM orders WHERE id BETWEEN 100 AND 102");
            api.refresh("rows");
            entries = all(outboxes, "rows");
            assertThat(db.value("SELECT changes IS NOT NULL FROM pgtrickle.pgt_outbox WHERE outbox_offset = ?",
                    entries.get(2).offset())).as("3 rows are inline").isEqualTo(true);
            new OutboxReplay().apply(entries).assertReproduces(db, "rows");
            assertThat(outboxes.status("rows").entries()).isEqualTo(3);
            assertThat(outboxes.status("rows").changes()).isEqualTo(9 + 2500 + 3);

            // The side rows go with their entries.
            outboxes.disable("rows", false);
            assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_outbox_changes WHERE outbox_offset BETWEEN ? AND ?",
                    entries.get(0).offset(), entries.get(2).offset())).isEqualTo(0L);
        }
    }

    @Test
    void badCallsAreRefusedNamingTheObjectAndTheFixAndLoseNothing() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("kept", "SELECT id, amount FROM orders", "1h", "DIFFERENTIAL"));
            Outboxes outboxes = engine.outboxes();
            assertThatThrownBy(() -> outboxes.enable("nope")).isInstanceOf(PgTrickleException.class)
                    .hasMessageContaining("stream table public.nope does not exist")
                    .extracting(e -> ((PgTrickleException) e).code()).isEqualTo(ErrorCode.NOT_FOUND);
            assertThatThrownBy(() -> outboxes.enable("orders")).hasMessageContaining("stream table public.orders does not exist");
            assertThatThrownBy(() -> outboxes.enable("kept", 0, 10)).hasMessageContaining("retention_hours must be a positive");
            assertThatThrownBy(() -> outboxes.enable("kept", 1, -1)).hasMessageContaining("inline_threshold_rows must be 0 or more");
            assertThatThrownBy(() -> outboxes.status("kept")).hasMessageContaining("stream table public.kept has no outbox")
                    .hasMessageContaining("enable_outbox('public.kept')");
            assertThatThrownBy(() -> outboxes.disable("kept", false)).hasMessageContaining("has no outbox");
            outboxes.disable("kept", true);

            outboxes.enable("kept");
            assertThatThrownBy(() -> outboxes.enable("kept")).hasMessageContaining("already has an outbox")
                    .extracting(e -> ((PgTrickleException) e).code()).isEqualTo(ErrorCode.NAME_TAKEN);

            // Dropping a stream table with an outbox needs cascade, in SQL and in Java.
            assertThatThrownBy(() -> db.execute("SELECT pgtrickle.drop_stream_table('kept')"))
                    .hasMessageContaining("it has an outbox").hasMessageContaining("disable_outbox('public.kept')");
            assertThatThrownBy(() -> api.drop("kept")).hasMessageContaining("it has an outbox");
            db.execute("INSERT INTO orders VALUES (50, 'z', 1)");
            api.refresh("kept");
            assertThat(all(outboxes, "kept")).hasSize(2);

            api.drop(io.pgtrickle.core.sql.QualifiedName.parse("kept"), true);
            assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_outbox")).isEqualTo(0L);
            assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_outbox_config")).isEqualTo(0L);
        }
    }

    @Test
    void disablingRemovesTheOutboxAndLaterRefreshesWriteNone() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("d", "SELECT id, amount FROM orders", "1h", "DIFFERENTIAL"));
            Outboxes outboxes = engine.outboxes();
            outboxes.enable("d");
            outboxes.disable("d", false);
            db.execute("INSERT INTO orders VALUES (60, 'z', 1)");
            api.refresh("d");
            assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_outbox")).isEqualTo(0L);
            assertThat(db.value("SELECT count(*) FROM d")).isEqualTo(10L);
        }
    }
}
