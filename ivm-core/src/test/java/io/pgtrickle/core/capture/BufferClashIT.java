package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A change whose buffer key already holds a different row is never dropped: capture stops with an
 * error that the refreshes report, and once the conflict is gone it resumes from the slot and the
 * change arrives.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class BufferClashIT {
    @Test
    void aKeyClashStopsCaptureLoudlyAndLosesNothing(TestDatabase db) throws Exception {
        db.execute("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)", "INSERT INTO t VALUES (1, 1)");
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(CdcMode.WAL)
                .withCaptureTimeout(Duration.ofSeconds(4)))) {
            var api = engine.streamTables();
            api.create(StreamTableSpec.parse("t_copy", "SELECT id, v FROM t", "1h", "DIFFERENTIAL"));
            api.refresh("t_copy");
            String buffer = "pgtrickle_changes.changes_" + db.value("SELECT 't'::regclass::oid::bigint");

            try (Connection writer = db.connect(); Statement s = writer.createStatement()) {
                writer.setAutoCommit(false);
                String xid;
                try (ResultSet rs = s.executeQuery("SELECT pg_current_xact_id()::text")) {
                    rs.next();
                    xid = rs.getString(1);
                }
                // Occupy every key the writer's change can get with a row that is not the change.
                db.execute("INSERT INTO " + buffer + " (xid, seq, weight, row) SELECT '" + xid + "'::xid8, g, 1,"
                        + " '{\"id\": -1, \"v\": -1}' FROM generate_series(0, 9) g");
                s.execute("INSERT INTO t VALUES (2, 2)");
                writer.commit();
            }

            assertThatThrownBy(() -> api.refresh("t_copy"))
                    .isInstanceOf(PgTrickleException.class)
                    .hasMessageContaining("clash");
            assertThat(db.value("SELECT count(*) FROM t_copy")).isEqualTo(1L);

            db.execute("DELETE FROM " + buffer + " WHERE row ->> 'id' = '-1'");
            await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).ignoreExceptions()
                    .until(() -> {
                        api.refresh("t_copy");
                        return true;
                    });
            assertThat(db.multisetDifference("SELECT id, v FROM t", "SELECT id, v FROM t_copy")).isEmpty();
            assertThat(db.value("SELECT count(*) FROM t_copy")).isEqualTo(2L);
        }
    }

    @Test
    void anEventBufferedBeforeJsonNullsWereMarkedIsTheSameChangeWhenReplayed(TestDatabase db) throws Exception {
        db.execute("CREATE TABLE docs (id int PRIMARY KEY, jb jsonb, jba jsonb[])", "INSERT INTO docs VALUES (1, '{}', '{}')");
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(CdcMode.WAL)
                .withCaptureTimeout(Duration.ofSeconds(4)))) {
            var api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("docs_copy", "SELECT id, jb, jba::text AS jba FROM docs", "1h", "DIFFERENTIAL"));
            api.refresh("docs_copy");
            String buffer = "pgtrickle_changes.changes_" + db.value("SELECT 'docs'::regclass::oid::bigint");

            try (Connection writer = db.connect(); Statement s = writer.createStatement()) {
                writer.setAutoCommit(false);
                String xid;
                try (ResultSet rs = s.executeQuery("SELECT pg_current_xact_id()::text")) {
                    rs.next();
                    xid = rs.getString(1);
                }
                // The first event of a transaction has seq 3; an engine of before V18 buffered this
                // insert without its list of JSON nulls, and the array as a JSON array.
                db.execute("INSERT INTO " + buffer + " (xid, seq, weight, row) VALUES ('" + xid + "'::xid8, 3, 1,"
                        + " '{\"id\": 2, \"jb\": null, \"jba\": [null, null]}')");
                s.execute("INSERT INTO docs VALUES (2, 'null', ARRAY['null'::jsonb, NULL])");
                writer.commit();
            }

            // The replayed event is no clash: the refresh consumes the row buffered first, which decodes
            // as it always did (SQL NULLs).
            api.refresh("docs_copy");
            assertThat(db.rows("SELECT jb IS NULL, jba FROM docs_copy WHERE id = 2")).containsExactly(List.of(true, "{NULL,NULL}"));
        }
    }
}
