package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.catalog.Status;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.lifecycle.RefreshMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * After CREATE OR REPLACE FUNCTION of a function a defining query calls (directly, through an
 * operator, or inside a view it reads), the engine refills the readers, so they show the new
 * body's results; DROP FUNCTION … CASCADE leaves them in an error naming the function.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RedefinedFunctionIT {
    private static final Map<String, String> QUERIES = Map.of(
            "st_sql_direct", "SELECT id, grade(score) AS g FROM marks",
            "st_plpgsql_direct", "SELECT label(score) AS l, count(*) AS n FROM marks GROUP BY label(score)",
            "st_through_view", "SELECT id, l FROM labelled WHERE id > 0",
            "st_operator", "SELECT id FROM marks WHERE score ~~~ 50",
            "st_nested_function", "SELECT id, scaled(score) AS w FROM marks");

    private final TestDatabase db;

    RedefinedFunctionIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void schema() {
        db.execute("DROP TABLE IF EXISTS marks CASCADE",
                "DROP FUNCTION IF EXISTS scaled(int), grade(int), label(int), near(int, int) CASCADE",
                "CREATE TABLE marks (id int PRIMARY KEY, score int)",
                "INSERT INTO marks VALUES (1, 10), (2, 55), (3, 90), (4, NULL)",
                "CREATE FUNCTION grade(s int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT s / 10'",
                "CREATE FUNCTION scaled(s int) RETURNS int LANGUAGE sql IMMUTABLE BEGIN ATOMIC SELECT grade(s) * 10; END",
                "CREATE FUNCTION label(s int) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$"
                        + " BEGIN RETURN CASE WHEN s >= 50 THEN 'pass' ELSE 'fail' END; END $$",
                "CREATE FUNCTION near(a int, b int) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT abs(a - b) <= 10'",
                "CREATE OPERATOR ~~~ (FUNCTION = near, LEFTARG = int, RIGHTARG = int)",
                "CREATE VIEW labelled AS SELECT id, label(score) AS l FROM marks");
    }

    private void assertExact(String name) {
        String columns = (String) db.value("SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute"
                + " WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped AND attname NOT LIKE '\\_\\_pgt\\_%'",
                name);
        assertThat(db.multisetDifference(QUERIES.get(name), "SELECT " + columns + " FROM " + name)).as(name).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void afterCreateOrReplaceFunctionEveryReaderShowsTheNewBodyAndStaysDifferential(CdcMode mode) {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            QUERIES.forEach((name, query) -> api.create(StreamTableSpec.parse(name, query, "200ms", "DIFFERENTIAL")));
            assertThat(db.rows("SELECT signature FROM pgtrickle.pgt_function_dependencies f"
                    + " JOIN pgtrickle.pgt_stream_tables s USING (pgt_id) WHERE s.pgt_name = 'st_through_view'"))
                    .containsExactly(List.of("label(integer)"));
            engine.start();

            db.execute("CREATE OR REPLACE FUNCTION grade(s int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT s / 20'",
                    "CREATE OR REPLACE FUNCTION label(s int) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$"
                            + " BEGIN RETURN CASE WHEN s >= 80 THEN 'top' WHEN s >= 50 THEN 'pass' ELSE 'fail' END; END $$",
                    "CREATE OR REPLACE FUNCTION near(a int, b int) RETURNS boolean LANGUAGE sql IMMUTABLE"
                            + " AS 'SELECT abs(a - b) <= 45'");
            await().ignoreExceptions().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                QUERIES.keySet().forEach(this::assertExact);
                assertThat(db.value("SELECT g FROM st_sql_direct WHERE id = 3")).isEqualTo(4);
                assertThat(db.value("SELECT n FROM st_plpgsql_direct WHERE l = 'top'")).isEqualTo(1L);
                assertThat(db.value("SELECT l FROM st_through_view WHERE id = 3")).isEqualTo("top");
                assertThat(db.value("SELECT count(*) FROM st_operator")).isEqualTo(3L);
                assertThat(db.value("SELECT w FROM st_nested_function WHERE id = 3")).isEqualTo(40);
            });

            // Until the engine has handled the redefinitions, refreshes recompute; afterwards later changes are
            // maintained differentially with the new bodies.
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    db.value("SELECT count(*) FROM pgtrickle.pgt_source_events WHERE NOT handled").equals(0L));
            db.execute("INSERT INTO marks VALUES (5, 85), (6, 40)", "UPDATE marks SET score = 99 WHERE id = 1",
                    "DELETE FROM marks WHERE id = 2");
            for (String name : QUERIES.keySet()) {
                assertThat(api.refresh(name).action()).as(name).isEqualTo("DIFFERENTIAL");
                assertExact(name);
                StreamTableRecord st = api.require(QualifiedName.parse(name));
                assertThat(st.status()).as(name).isEqualTo(Status.ACTIVE);
                assertThat(st.effectiveMode()).as(name).isEqualTo(RefreshMode.DIFFERENTIAL);
            }
            assertThat(db.value("SELECT n FROM st_plpgsql_direct WHERE l = 'top'")).isEqualTo(3L);
        }
    }

    @Test
    void aRefreshBeforeTheEngineHasHandledARedefinedFunctionRecomputesItWhole() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) { // not started: no event is handled
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("st_sql_direct", QUERIES.get("st_sql_direct"), "1h", "DIFFERENTIAL"));
            db.execute("CREATE OR REPLACE FUNCTION grade(s int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT s'",
                    "UPDATE marks SET score = 11 WHERE id = 1");

            assertThat(api.refresh("st_sql_direct").action()).isEqualTo("FULL");
            assertExact("st_sql_direct");
            assertThat(db.value("SELECT g FROM st_sql_direct WHERE id = 3")).isEqualTo(90);
        }
    }

    @Test
    void droppingAFunctionWithCascadePutsItsReadersInErrorNamingItAndLeavesTheOthersAlone() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            QUERIES.forEach((name, query) -> api.create(StreamTableSpec.parse(name, query, "200ms", "DIFFERENTIAL")));
            engine.start();

            db.execute("DROP FUNCTION label(int) CASCADE"); // takes the view labelled along
            await().ignoreExceptions().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                for (String name : List.of("st_plpgsql_direct", "st_through_view")) {
                    StreamTableRecord st = api.require(QualifiedName.parse(name));
                    assertThat(st.status()).as(name).isIn(Status.ERROR, Status.SUSPENDED);
                    assertThat(st.lastError()).as(name).containsAnyOf("label(integer)", "public.labelled")
                            .contains("dropped");
                }
                assertThat(api.require(QualifiedName.parse("st_plpgsql_direct")).lastError()).contains("label(integer)");
            });
            // A retry fails with PostgreSQL's "does not exist", and must still name the drop.
            assertThatThrownBy(() -> api.refresh("st_plpgsql_direct")).hasMessageContaining("does not exist")
                    .hasMessageContaining("function public.label(integer) changed (DROP FUNCTION: the function was dropped)");
            assertThat(api.require(QualifiedName.parse("st_plpgsql_direct")).lastError()).contains("dropped");
            db.execute("INSERT INTO marks VALUES (7, 47)");
            await().ignoreExceptions().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertExact("st_sql_direct");
                assertExact("st_operator");
            });
            assertThat(api.require(QualifiedName.parse("st_sql_direct")).status()).isEqualTo(Status.ACTIVE);
            assertThat(db.value("SELECT g FROM st_sql_direct WHERE id = 7")).isEqualTo(4);
        }
    }
}
