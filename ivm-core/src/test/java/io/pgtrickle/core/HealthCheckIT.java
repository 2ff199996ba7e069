package io.pgtrickle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.catalog.Status;
import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * health_check() lists every stream table that is not healthy — suspended, failing its refreshes,
 * broken by a source change, never populated, or a request the engine could not carry out (the SQL
 * functions return before the engine runs them) — each with the error and the fix; a healthy
 * database answers OK.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class HealthCheckIT {
    private final TestDatabase db;

    HealthCheckIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void schema() {
        db.execute("DROP TABLE IF EXISTS t, s CASCADE",
                "CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)",
                "CREATE TABLE s (id int PRIMARY KEY, c text)",
                "INSERT INTO t VALUES (1, 1), (2, 2)", "INSERT INTO s VALUES (1, 'x')",
                // Fails on a negative value: a refresh that fails at every attempt once one arrives.
                "CREATE OR REPLACE FUNCTION boom(x int) RETURNS int LANGUAGE plpgsql AS $$ BEGIN"
                        + " IF x < 0 THEN RAISE EXCEPTION 'negative value %', x; END IF; RETURN x; END $$");
    }

    @Test
    void aHealthyDatabaseAnswersOk() {
        try (PgTrickleEngine engine = EngineFixture.open(db).start()) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("fine", "SELECT id, boom(v) AS b FROM t", "1h", "DIFFERENTIAL"));
            db.execute("INSERT INTO t VALUES (3, 3)");
            api.refresh("fine");
            assertThat(db.multisetDifference("SELECT id, boom(v) AS b FROM t", "SELECT id, b FROM fine")).isEmpty();
            assertThat(db.rows("SELECT check_name, severity, detail FROM pgtrickle.health_check()"))
                    .containsExactly(List.of("all", "OK", "no problems found"));
        }
    }


    @Test
    void suspendedBrokenAndNeverCreatedStreamTablesAreListedWhileTheOthersKeepWorking() {
        try (PgTrickleEngine engine = EngineFixture.open(db).start()) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("good", "SELECT id, v FROM t", "1h", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("dropped_col", "SELECT id, c FROM s", "1h", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("fails", "SELECT id, boom(v) AS b FROM t", "1s", "FULL"));
            api.create(StreamTableSpec.parse("paused", "SELECT id FROM t", "1h", "FULL"));
            api.alter("paused", AlterSpec.none().withStatus(Status.SUSPENDED));

            // Every scheduled refresh of "fails" fails from now on; the scheduler suspends it.
            db.execute("INSERT INTO t VALUES (3, -1)");
            // Through SQL: the function returns once the request is registered; the engine's CREATE fails.
            long request = ((Number) db.value("SELECT pgtrickle.create_stream_table('never_made',"
                    + " 'SELECT id, boom(v) AS b FROM t', '1h', 'FULL')")).longValue();
            // Breaks dropped_col's query; its retried refreshes fail until it is suspended too.
            db.execute("ALTER TABLE s DROP COLUMN c");

            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                assertThat(db.value("SELECT state FROM pgtrickle.pgt_requests WHERE request_id = ?", request))
                        .isEqualTo("FAILED");
                assertThat(status(api, "fails")).isEqualTo(Status.SUSPENDED);
                assertThat(status(api, "dropped_col")).isEqualTo(Status.SUSPENDED);
            });

            List<List<Object>> findings = findings();
            assertThat(findings).extracting(r -> r.get(0) + " " + r.get(1)).containsExactly(
                    "failed_requests ERROR", "suspended ERROR", "suspended ERROR", "suspended ERROR");
            assertThat(findings.get(0).get(2).toString()).contains("create of public.never_made (request " + request
                    + ") failed", "negative value -1", "call create_stream_table again");
            assertThat(findings.get(1).get(2).toString()).startsWith("public.dropped_col is suspended and not refreshed"
                    + " after 3 failed refresh(es); last error: ").contains("column", "does not exist",
                    "alter_stream_table('public.dropped_col', status => 'ACTIVE')");
            assertThat(findings.get(2).get(2).toString()).startsWith("public.fails is suspended and not refreshed after 3")
                    .contains("negative value -1", "alter_stream_table('public.fails', status => 'ACTIVE')");
            assertThat(findings.get(3).get(2).toString()).startsWith("public.paused is suspended and not refreshed (fix");
            assertThat(findings).noneMatch(r -> r.get(2).toString().contains("public.good"));

            // The others keep working.
            db.execute("INSERT INTO t VALUES (4, 4)");
            api.refresh("good");
            assertThat(db.multisetDifference("SELECT id, v FROM t", "SELECT id, v FROM good")).isEmpty();
            assertThat(db.value("SELECT count(*) FROM good")).isEqualTo(4L);

            // Fixed: the check is clean again.
            db.execute("UPDATE t SET v = 1 WHERE id = 3");
            // (a long schedule: a busy machine must not make it look stale at the final check)
            api.alter("fails", AlterSpec.none().withStatus(Status.ACTIVE).withSchedule("1h"));
            api.refresh("fails");
            api.drop("dropped_col");
            api.drop("paused");
            db.execute("SELECT pgtrickle.create_stream_table('never_made', 'SELECT id, boom(v) AS b FROM t', '1h', 'FULL')");
            await().atMost(Duration.ofSeconds(30)).until(() -> api.find(QualifiedName.parse("never_made")).isPresent());
            assertThat(db.rows("SELECT check_name, severity FROM pgtrickle.health_check()"))
                    .containsExactly(List.of("all", "OK"));
        }
    }

    @Test
    void failingAndNeverPopulatedStreamTablesAreListedWhileTheOthersKeepWorking() {
        // No scheduler: nothing retries or suspends behind the test's back.
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("erroring", "SELECT id, boom(v) AS b FROM t", "1h", "FULL"));
            api.create(StreamTableSpec.parse("fine", "SELECT id, boom(v) AS b FROM t WHERE v > 0", "1h", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("empty_st", "SELECT id, v FROM t", "1h", "FULL"));
            db.execute("INSERT INTO t VALUES (3, -1)");
            assertThatThrownBy(() -> api.refresh("erroring")).hasMessageContaining("negative value -1");
            api.refresh("fine");
            assertThat(db.multisetDifference("SELECT id, boom(v) AS b FROM t WHERE v > 0", "SELECT id, b FROM fine"))
                    .isEmpty();
            // As a catalog row whose first population never committed would be.
            db.execute("UPDATE pgtrickle.pgt_stream_tables SET data_timestamp = NULL, last_refresh_at = NULL"
                    + " WHERE pgt_name = 'empty_st'", "TRUNCATE empty_st");

            List<List<Object>> findings = findings();
            assertThat(findings).extracting(r -> r.get(0) + " " + r.get(1)).containsExactly(
                    "never_populated ERROR", "refresh_errors ERROR");
            assertThat(findings.get(0).get(2)).isEqualTo("public.empty_st has never been populated: no refresh has"
                    + " succeeded, so it is empty (SELECT pgtrickle.refresh_stream_table('public.empty_st') populates"
                    + " it or names the error)");
            assertThat(findings.get(1).get(2).toString()).startsWith("public.erroring failed its last 1 refresh(es): ")
                    .contains("negative value -1", "refresh_stream_table('public.erroring')");

            db.execute("DELETE FROM t WHERE id = 3");
            api.refresh("erroring");
            api.refresh("empty_st");
            assertThat(findings()).isEmpty();
            assertThat(db.multisetDifference("SELECT id, boom(v) AS b FROM t", "SELECT id, b FROM erroring")).isEmpty();
            assertThat(db.multisetDifference("SELECT id, v FROM t", "SELECT id, v FROM empty_st")).isEmpty();
            assertThat(db.value("SELECT count(*) FROM empty_st")).isEqualTo(2L);
        }
    }

    /** Every finding but the engine's absence, by check and detail. */
    private List<List<Object>> findings() {
        return db.rows("SELECT check_name, severity, detail FROM pgtrickle.health_check()"
                + " WHERE check_name NOT IN ('engine_running', 'all') ORDER BY check_name, detail");
    }

    private static Status status(StreamTables api, String name) {
        return api.require(QualifiedName.parse(name)).status();
    }
}
