package io.pgtrickle.core.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Every refresh records the milliseconds of each of its phases, and refresh_timeline() shows them. */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RefreshPhasesIT {
    private static final String DIFF_QUERY = "SELECT id, v FROM items WHERE v > 0";
    private static final String FULL_QUERY = "SELECT count(*) AS n, sum(v) AS s FROM items";
    private static final String PHASES = "apply,bookkeeping,capture_barrier,plan,window_read";

    /**
     * The latest history row of a stream table: action, rows inserted, its phase names (sorted),
     * whether all are non-negative, and whether they sum to no more than its duration.
     */
    private static final String LATEST = """
            SELECT h.action, h.rows_inserted,
                   (SELECT string_agg(k, ',' ORDER BY k) FROM jsonb_object_keys(h.phase_ms) k),
                   (SELECT bool_and(v::numeric >= 0) FROM jsonb_each_text(h.phase_ms) e (k, v)),
                   (SELECT sum(v::numeric) FROM jsonb_each_text(h.phase_ms) e (k, v))
                       <= extract(epoch FROM h.finished_at - h.started_at) * 1000
              FROM pgtrickle.pgt_refresh_history h
             WHERE h.pgt_name = ? ORDER BY h.refresh_id DESC LIMIT 1""";

    private final TestDatabase db;

    RefreshPhasesIT(TestDatabase db) {
        this.db = db;
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void differentialAndFullRefreshesRecordNonNegativePhasesWithinTheirDuration(CdcMode mode) {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            db.execute("DROP TABLE IF EXISTS items CASCADE",
                    "CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL)",
                    "INSERT INTO items VALUES (1, 10), (2, -5), (3, 7)");
            api.create(StreamTableSpec.parse("positive_items", DIFF_QUERY, "1h", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("item_totals", FULL_QUERY, "1h", "FULL"));
            // The populating refresh of create runs in the creating transaction: no phases.
            assertThat(db.value("SELECT bool_and(phase_ms IS NULL) AND count(*) >= 2 FROM pgtrickle.pgt_refresh_history"
                    + " WHERE trigger = 'CREATE' AND pgt_name IN ('positive_items', 'item_totals')"))
                    .isEqualTo(true);

            db.execute("INSERT INTO items VALUES (4, 3), (5, 8)", "UPDATE items SET v = 1 WHERE id = 2",
                    "DELETE FROM items WHERE id = 3");
            api.refresh("positive_items");
            api.refresh("item_totals");

            assertThat(db.multisetDifference(DIFF_QUERY, "SELECT id, v FROM positive_items")).isEmpty();
            assertThat(db.multisetDifference(FULL_QUERY, "SELECT n, s FROM item_totals")).isEmpty();
            assertThat(db.value("SELECT string_agg(id || ':' || v, ',' ORDER BY id) FROM positive_items"))
                    .isEqualTo("1:10,2:1,4:3,5:8");
            assertThat(db.value("SELECT n || '/' || s FROM item_totals")).isEqualTo("4/22");

            assertThat(db.rows(LATEST, "positive_items"))
                    .containsExactly(List.of("DIFFERENTIAL", 3L, PHASES, true, true));
            assertThat(db.rows(LATEST, "item_totals")).containsExactly(List.of("FULL", 1L, PHASES, true, true));
            // The differential refresh read a window of 5 changes (2 inserts, an update as old and new row, a
            // delete); applying them took measurable time.
            assertThat(db.value("SELECT ((phase_ms ->> 'apply')::numeric > 0)::text || '/' || window_rows"
                    + " FROM pgtrickle.pgt_refresh_history WHERE pgt_name = 'positive_items'"
                    + " ORDER BY refresh_id DESC LIMIT 1")).isEqualTo("true/5");

            assertThat(db.rows("SELECT name, action, phase_ms = (SELECT phase_ms FROM pgtrickle.pgt_refresh_history"
                    + " ORDER BY refresh_id DESC LIMIT 1)"
                    + " FROM pgtrickle.refresh_timeline(1)"))
                    .containsExactly(List.of("public.item_totals", "FULL", true));
            assertThat(db.rows("SELECT name, jsonb_typeof(phase_ms), (phase_ms ->> 'window_read') IS NOT NULL"
                    + " FROM pgtrickle.refresh_timeline(2)")).containsExactly(
                    List.of("public.item_totals", "object", true), List.of("public.positive_items", "object", true));
        }
    }
}
