package io.pgtrickle.core.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Refreshes with nothing to do: back to back they skip the capture barrier (the transactions in
 * between are the engine's own and changed no source), and a commit of anyone else in between
 * still makes the next refresh wait for capture, so it is never missed.
 */
@ExtendWith(PostgresExtension.class)
class IdleRefreshIT {
    private final TestDatabase db;
    private PgTrickleEngine engine;
    private StreamTables api;

    IdleRefreshIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void setUp() {
        engine = EngineFixture.open(db);
        api = engine.streamTables();
        EngineFixture.dropAllStreamTables(api);
        db.execute("DROP TABLE IF EXISTS idle_src, unrelated CASCADE",
                "CREATE TABLE idle_src (id int PRIMARY KEY, v int NOT NULL)",
                "CREATE TABLE unrelated (id int)",
                "INSERT INTO idle_src SELECT i, i FROM generate_series(1, 10) i");
        api.create(StreamTableSpec.parse("idle_copy", "SELECT id, v FROM idle_src", "1h", "DIFFERENTIAL"));
        api.create(StreamTableSpec.parse("idle_sum", "SELECT sum(v) AS total, count(*) AS n FROM idle_src", "1h",
                "DIFFERENTIAL"));
    }

    @AfterEach
    void tearDown() {
        engine.close();
    }

    @Test
    void aCommitBetweenIdleRefreshesIsAlwaysSeenByTheNextRefresh() {
        for (int i = 0; i < 3; i++) {
            api.refresh("idle_copy");
            api.refresh("idle_sum");
        }
        for (int i = 0; i < 5; i++) {
            // Another writer's commit right after an idle refresh: the next refresh must see it.
            db.execute("INSERT INTO idle_src VALUES (" + (100 + i) + ", " + i + ")");
            api.refresh("idle_copy");
            api.refresh("idle_sum");
            assertThat(db.multisetDifference("SELECT id, v FROM idle_src", "SELECT id, v FROM idle_copy")).isEmpty();
            assertThat(db.multisetDifference("SELECT sum(v), count(*) FROM idle_src", "SELECT total, n FROM idle_sum"))
                    .isEmpty();
            // A write elsewhere, then an idle refresh of each, then a change: still seen.
            db.execute("INSERT INTO unrelated VALUES (" + i + ")");
            api.refresh("idle_copy");
            db.execute("UPDATE idle_src SET v = v + 1 WHERE id = " + (100 + i));
            api.refresh("idle_copy");
            api.refresh("idle_sum");
            assertThat(db.multisetDifference("SELECT id, v FROM idle_src", "SELECT id, v FROM idle_copy")).isEmpty();
            assertThat(db.multisetDifference("SELECT sum(v), count(*) FROM idle_src", "SELECT total, n FROM idle_sum"))
                    .isEmpty();
        }
        assertThat(db.value("SELECT sum(window_rows)::bigint FROM pgtrickle.pgt_refresh_history WHERE pgt_name = 'idle_copy'"
                + " AND trigger = 'MANUAL'")).as("1 insert and 1 update (2 rows) per round").isEqualTo(15L);
    }
}
