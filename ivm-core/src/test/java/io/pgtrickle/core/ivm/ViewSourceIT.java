package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.catalog.Status;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.error.PgTrickleException;
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
 * Views as sources: inlined (nested views too) and maintained differentially over the tables
 * underneath, which capture tracks; re-planned when a view is replaced or altered, and an error
 * naming the view when it is dropped or gains a construct without a delta rule.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class ViewSourceIT {
    /** Stream table name → defining query; every one reads at least one view. */
    private static final Map<String, String> QUERIES = Map.of(
            "st_simple", "SELECT id, name, salary FROM emp_v",
            "st_aliases", "SELECT emp_id, emp_name, pay * 2 AS double_pay FROM rich",
            "st_joined_view", "SELECT id, dept FROM emp_dept WHERE region <> 'west'",
            "st_aggregated_view", "SELECT dept_id, n, total FROM dept_pay",
            "st_aggregate_over_view", "SELECT region, count(*) AS n, sum(salary) AS s FROM emp_dept GROUP BY region",
            "st_nested", "SELECT emp_id, pay FROM rich_north",
            "st_view_with_cte", "SELECT dept_id, n FROM paid_counts",
            "st_quoted_names", "SELECT \"Id\", \"Short name\" FROM hr.\"Odd View\" WHERE \"Id\" > 1",
            "st_view_join_table", "SELECT r.emp_name, d.name AS dept FROM rich r JOIN hr.emp e ON e.id = r.emp_id"
                    + " JOIN dept d ON d.id = e.dept_id");

    private final TestDatabase db;

    ViewSourceIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void schema() {
        db.execute("DROP SCHEMA IF EXISTS hr CASCADE",
                "DROP TABLE IF EXISTS dept, bonus, secret CASCADE",
                "DROP MATERIALIZED VIEW IF EXISTS dept_snapshot",
                "DROP VIEW IF EXISTS base_by_dept",
                "CREATE SCHEMA hr",
                "CREATE TABLE hr.emp (id int PRIMARY KEY, name text, dept_id int, salary numeric(10,2))",
                "CREATE TABLE dept (id int PRIMARY KEY, name text, region text)",
                "CREATE TABLE bonus (emp_id int PRIMARY KEY, amount int)",
                "INSERT INTO dept VALUES (1, 'eng', 'north'), (2, 'ops', 'south'), (3, 'lab', 'west')",
                "INSERT INTO hr.emp VALUES (1, 'ann', 1, 100), (2, 'bob', 1, 40), (3, 'cy', 2, 70), (4, 'dee', 3, 90)",
                "INSERT INTO bonus VALUES (1, 5), (3, 7)",
                "CREATE VIEW emp_v AS SELECT id, name, dept_id, salary FROM hr.emp",
                "CREATE VIEW rich (emp_id, emp_name, pay) AS SELECT id, name, salary FROM hr.emp WHERE salary > 50",
                "CREATE VIEW emp_dept AS SELECT e.id, e.name, e.salary, d.name AS dept, d.region"
                        + " FROM hr.emp e JOIN dept d ON d.id = e.dept_id",
                "CREATE VIEW dept_pay AS SELECT dept_id, count(*) AS n, sum(salary) AS total FROM hr.emp GROUP BY dept_id",
                "CREATE VIEW hr.\"Odd View\" AS SELECT id AS \"Id\", name::varchar(2) AS \"Short name\","
                        + " salary::double precision AS \"Pay\" FROM hr.emp",
                "CREATE VIEW paid_counts AS WITH paid AS (SELECT dept_id FROM hr.emp WHERE salary > 30)"
                        + " SELECT dept_id, count(*) AS n FROM paid GROUP BY dept_id",
                "CREATE VIEW rich_north AS SELECT r.emp_id, r.pay FROM rich r JOIN emp_dept ed ON ed.id = r.emp_id"
                        + " WHERE ed.region = 'north'");
    }

    /** The stream table equals a fresh run of its query. */
    private void assertExact(String name) {
        assertThat(db.multisetDifference(QUERIES.get(name), "SELECT " + userColumns(name) + " FROM " + name)).as(name)
                .isEmpty();
    }

    /** The stream table's own columns (not the hidden ones), in order. */
    private String userColumns(String streamTable) {
        return (String) db.value("SELECT string_agg(quote_ident(attname), ', ' ORDER BY attnum) FROM pg_attribute"
                + " WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped AND attname NOT LIKE '\\_\\_pgt\\_%'",
                streamTable);
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void viewsOfEveryShapeAreMaintainedDifferentiallyAndExactlyAfterInsertUpdateDelete(CdcMode mode) {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            QUERIES.forEach((name, query) -> api.create(StreamTableSpec.parse(name, query, "1h", "DIFFERENTIAL")));
            QUERIES.keySet().forEach(this::assertExact);
            // Capture tracks the tables under the views, not the views.
            assertThat(db.rows("SELECT source_schema || '.' || source_name FROM pgtrickle.pgt_change_sources ORDER BY 1"))
                    .containsExactly(List.of("hr.emp"), List.of("public.dept"));

            List<List<String>> batches = List.of(
                    List.of("INSERT INTO hr.emp VALUES (5, 'eve', 1, 200), (6, 'fay', 2, 10)",
                            "INSERT INTO dept VALUES (4, 'hq', 'north')"),
                    List.of("UPDATE hr.emp SET salary = 60 WHERE id = 2", // bob becomes rich
                            "UPDATE hr.emp SET salary = 20 WHERE id = 1", // ann no longer is
                            "UPDATE hr.emp SET dept_id = 4 WHERE id = 3",
                            "UPDATE dept SET region = 'west' WHERE id = 2"),
                    List.of("DELETE FROM hr.emp WHERE id IN (4, 5)", "DELETE FROM dept WHERE id = 3",
                            "UPDATE dept SET region = 'north' WHERE id = 4"));
            for (List<String> batch : batches) {
                db.execute(batch.toArray(String[]::new));
                for (String name : QUERIES.keySet()) {
                    assertThat(api.refresh(name).action()).as(name).isEqualTo("DIFFERENTIAL");
                    assertExact(name);
                }
            }
            assertThat(db.rows("SELECT emp_id, pay FROM st_nested ORDER BY emp_id"))
                    .containsExactly(List.of(2, new java.math.BigDecimal("60.00")), List.of(3, new java.math.BigDecimal("70.00")));
            assertThat(db.rows("SELECT emp_name, double_pay FROM st_aliases ORDER BY emp_id"))
                    .containsExactly(List.of("bob", new java.math.BigDecimal("120.00")),
                            List.of("cy", new java.math.BigDecimal("140.00")));
            assertThat(db.value("SELECT n FROM st_aggregated_view WHERE dept_id = 1")).isEqualTo(2L);
        }
    }

    @Test
    void autoPicksDifferentialForViewsAndExplainListsTheViewsAndTablesUnderThem() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            StreamTableRecord st = api.create(StreamTableSpec.parse("st_nested", QUERIES.get("st_nested"), "1h", "AUTO"));

            assertThat(st.effectiveMode()).isEqualTo(RefreshMode.DIFFERENTIAL);
            assertThat(st.modeReason()).isNull();
            var explanation = api.explain(QualifiedName.parse("st_nested"));
            assertThat(explanation.sources()).extracting(s -> s.name().toString() + " " + s.kind())
                    .containsExactlyInAnyOrder("hr.emp TABLE", "public.dept TABLE", "public.rich VIEW",
                            "public.emp_dept VIEW", "public.rich_north VIEW");
            // The delta reads the tables and their changes, not the views (only their aliases remain).
            assertThat(explanation.deltaSql())
                    .contains("pg_temp.\"__pgt_window_" + db.value("SELECT 'hr.emp'::regclass::oid::bigint") + "_rows\"")
                    .contains("pg_temp.\"__pgt_window_" + db.value("SELECT 'public.dept'::regclass::oid::bigint") + "_rows\"")
                    .doesNotContain("emp_dept").doesNotContain("\"public\".\"rich");
        }
    }

    @Test
    void viewsWithoutADeltaRuleAreRefusedInDifferentialNamingTheViewAndReadWholeInAuto() {
        db.execute("CREATE VIEW top_paid AS SELECT id, salary FROM hr.emp ORDER BY salary DESC LIMIT 2",
                "CREATE VIEW top_paid_names AS SELECT t.id, e.name FROM top_paid t JOIN hr.emp e ON e.id = t.id",
                "CREATE VIEW guarded WITH (security_barrier) AS SELECT id, name FROM hr.emp WHERE salary > 50",
                "CREATE MATERIALIZED VIEW dept_snapshot AS SELECT id, name FROM dept",
                "CREATE TABLE secret (id int PRIMARY KEY, owner name)",
                "ALTER TABLE secret ENABLE ROW LEVEL SECURITY",
                "CREATE VIEW secret_v AS SELECT id FROM secret");
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);

            assertThatThrownBy(() -> api.create(StreamTableSpec.parse("st_top", "SELECT id, salary FROM top_paid", "1h",
                    "DIFFERENTIAL")))
                    .isInstanceOf(PgTrickleException.class)
                    .hasMessageContaining("view public.top_paid")
                    .hasMessageContaining("LIMIT")
                    .hasMessageContaining("use refresh mode AUTO or FULL");
            assertThatThrownBy(() -> api.create(StreamTableSpec.parse("st_top_names", "SELECT id, name FROM top_paid_names",
                    "1h", "DIFFERENTIAL")))
                    .hasMessageContaining("view public.top_paid_names reads view public.top_paid")
                    .hasMessageContaining("LIMIT");

            List<Map.Entry<String, String>> reasons = List.of(
                    Map.entry("SELECT id, salary FROM top_paid", "view public.top_paid"),
                    Map.entry("SELECT id, name FROM guarded", "security_barrier"),
                    Map.entry("SELECT id, name FROM dept_snapshot", "materialized view dept_snapshot"),
                    Map.entry("SELECT id FROM secret_v", "public.secret, which has row-level security"),
                    Map.entry("SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'hr'",
                            "system view information_schema.tables"));
            int i = 0;
            for (var e : reasons) {
                String name = "st_auto_" + i++;
                StreamTableRecord st = api.create(StreamTableSpec.parse(name, e.getKey(), "1h", "AUTO"));
                assertThat(st.effectiveMode()).as(e.getKey()).isEqualTo(RefreshMode.FULL);
                assertThat(st.modeReason()).as(e.getKey()).contains(e.getValue());
                assertThat(api.explain(st.name()).render()).contains(e.getValue());
                db.execute("UPDATE hr.emp SET salary = salary + 100 WHERE id = 3", "REFRESH MATERIALIZED VIEW dept_snapshot");
                assertThat(api.refresh(name).action()).isEqualTo("FULL");
                assertThat(db.multisetDifference(e.getKey(), "SELECT " + userColumns(name) + " FROM " + name)).isEmpty();
            }
            assertThat(db.value("SELECT count(*) FROM st_auto_0")).isEqualTo(2L);
        }
    }

    @Test
    void aViewOverAStreamTableIsMaintainedDifferentiallyAfterItsUpstream() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("st_base", "SELECT id, name, dept_id, salary FROM hr.emp WHERE salary > 30",
                    "1h", "DIFFERENTIAL"));
            db.execute("CREATE OR REPLACE VIEW base_by_dept AS SELECT dept_id, count(*) AS n FROM st_base GROUP BY dept_id");
            String query = "SELECT b.dept_id, b.n, d.name FROM base_by_dept b JOIN dept d ON d.id = b.dept_id";
            api.create(StreamTableSpec.parse("st_over_view_of_st", query, "1h", "DIFFERENTIAL"));
            assertThat(db.rows("SELECT source_name, source_kind FROM pgtrickle.pgt_dependencies d"
                    + " JOIN pgtrickle.pgt_stream_tables s USING (pgt_id) WHERE s.pgt_name = 'st_over_view_of_st'"
                    + " ORDER BY 1")).containsExactly(List.of("base_by_dept", "VIEW"), List.of("dept", "TABLE"),
                    List.of("st_base", "STREAM_TABLE"));

            db.execute("INSERT INTO hr.emp VALUES (9, 'ivy', 2, 80)", "UPDATE hr.emp SET salary = 10 WHERE id = 1",
                    "DELETE FROM hr.emp WHERE id = 4");
            api.refresh("st_base");
            assertThat(api.refresh("st_over_view_of_st").action()).isEqualTo("DIFFERENTIAL");
            assertThat(db.multisetDifference(query, "SELECT dept_id, n, name FROM st_over_view_of_st")).isEmpty();
            assertThat(db.rows("SELECT dept_id, n FROM st_over_view_of_st ORDER BY dept_id"))
                    .containsExactly(List.of(1, 1L), List.of(2, 2L));
        }
    }

    @Test
    void aRoleMayReadThroughAViewOnlyWhatThePrivilegesOfTheViewAllow() {
        String reader = "view_reader_" + db.name();
        db.execute("DROP ROLE IF EXISTS " + reader, "CREATE ROLE " + reader,
                "CREATE VIEW invoker_v WITH (security_invoker) AS SELECT id, name FROM hr.emp",
                "GRANT SELECT ON rich, invoker_v TO " + reader);
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            // The view's owner may read hr.emp, so the reader may read what the view shows of it...
            api.create(StreamTableSpec.parse("st_granted", "SELECT emp_id, emp_name FROM rich", "1h", "DIFFERENTIAL"),
                    reader);
            assertThat(db.multisetDifference("SELECT emp_id, emp_name FROM rich", "SELECT " + userColumns("st_granted") + " FROM st_granted")).isEmpty();
            // ...but not the table itself, nor a view it was not granted.
            assertThatThrownBy(() -> api.create(StreamTableSpec.parse("st_denied", "SELECT id FROM emp_v", "1h",
                    "DIFFERENTIAL"), reader)).hasMessageContaining("may not read public.emp_v");
            // A security_invoker view checks the tables under it against the caller.
            assertThatThrownBy(() -> api.create(StreamTableSpec.parse("st_invoker", "SELECT id, name FROM invoker_v",
                    "1h", "DIFFERENTIAL"), reader)).hasMessageContaining("may not read hr.emp");
        }
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void replacingAViewReplansItsReadersNestedOnesTooAndTracksTheNewTables(CdcMode mode) {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("st_aliases", QUERIES.get("st_aliases"), "200ms", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("st_nested", QUERIES.get("st_nested"), "200ms", "DIFFERENTIAL"));
            engine.start();

            // The inner view now reads another table too, with a new filter.
            db.execute("CREATE OR REPLACE VIEW rich (emp_id, emp_name, pay) AS SELECT e.id, e.name,"
                    + " (e.salary + b.amount)::numeric(10,2)"
                    + " FROM hr.emp e JOIN bonus b ON b.emp_id = e.id WHERE e.salary > 30");
            await().ignoreExceptions().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertExact("st_aliases");
                assertExact("st_nested");
                assertThat(db.value("SELECT double_pay FROM st_aliases WHERE emp_id = 3"))
                        .isEqualTo(new java.math.BigDecimal("154.00"));
            });
            // (Refreshes before the engine handles the change recompute, so the contents may be right before then.)
            await().atMost(Duration.ofSeconds(20)).until(() ->
                    db.value("SELECT count(*) FROM pgtrickle.pgt_source_events WHERE NOT handled").equals(0L));
            assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_change_sources WHERE source_name = 'bonus'"))
                    .isEqualTo(1L);
            // Changes of the newly tracked table reach both, differentially.
            db.execute("INSERT INTO bonus VALUES (2, 1)", "UPDATE bonus SET amount = 8 WHERE emp_id = 1");
            for (String name : List.of("st_aliases", "st_nested")) {
                assertThat(api.refresh(name).action()).as(name).isEqualTo("DIFFERENTIAL");
                assertExact(name);
            }
            assertThat(db.value("SELECT double_pay FROM st_aliases WHERE emp_id = 2"))
                    .isEqualTo(new java.math.BigDecimal("82.00"));
            assertThat(api.require(QualifiedName.parse("st_nested")).effectiveMode()).isEqualTo(RefreshMode.DIFFERENTIAL);
        }
    }

    @Test
    void aRefreshBeforeTheEngineHasHandledAReplacedViewRecomputesItWhole() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) { // not started: no event is handled
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("st_aliases", QUERIES.get("st_aliases"), "1h", "DIFFERENTIAL"));
            db.execute("CREATE OR REPLACE VIEW rich (emp_id, emp_name, pay) AS SELECT id, name, salary FROM hr.emp"
                    + " WHERE salary > 80", "UPDATE hr.emp SET salary = 95 WHERE id = 3");

            assertThat(api.refresh("st_aliases").action()).isEqualTo("FULL");
            assertExact("st_aliases");
            assertThat(db.value("SELECT string_agg(emp_name, ',' ORDER BY emp_id) FROM st_aliases")).isEqualTo("ann,cy,dee");
        }
    }

    @Test
    void renamingAViewOrItsColumnIsFollowedBySelectStarAndBreaksAQueryNamingTheOldName() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("st_star", "SELECT * FROM rich", "200ms", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("st_named", "SELECT emp_id, pay FROM rich", "200ms", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("st_other", "SELECT id, name FROM emp_v", "200ms", "DIFFERENTIAL"));
            engine.start();

            db.execute("ALTER VIEW rich RENAME COLUMN pay TO salary");
            await().ignoreExceptions().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                assertThat(userColumns("st_star")).isEqualTo("emp_id, emp_name, salary");
                StreamTableRecord named = api.require(QualifiedName.parse("st_named"));
                assertThat(named.status()).isIn(Status.ERROR, Status.SUSPENDED);
                assertThat(named.lastError()).contains("public.rich").contains("ALTER VIEW");
            });
            db.execute("INSERT INTO hr.emp VALUES (7, 'gus', 2, 300)");
            await().ignoreExceptions().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(db.multisetDifference("SELECT * FROM rich", "SELECT " + userColumns("st_star") + " FROM st_star")).isEmpty());
            assertThat(db.value("SELECT salary FROM st_star WHERE emp_id = 7")).isEqualTo(new java.math.BigDecimal("300.00"));

            db.execute("ALTER VIEW rich RENAME TO wealthy");
            await().ignoreExceptions().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                StreamTableRecord star = api.require(QualifiedName.parse("st_star"));
                assertThat(star.status()).isIn(Status.ERROR, Status.SUSPENDED);
                assertThat(star.lastError()).contains("public.rich").contains("public.wealthy");
            });
            // Others are not touched.
            db.execute("INSERT INTO hr.emp VALUES (8, 'hal', 1, 1)");
            await().ignoreExceptions().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                    assertThat(db.multisetDifference("SELECT id, name FROM emp_v", "SELECT " + userColumns("st_other") + " FROM st_other")).isEmpty());
            assertThat(api.require(QualifiedName.parse("st_other")).status()).isEqualTo(Status.ACTIVE);
        }
    }

    @Test
    void droppingAViewPutsItsReadersInErrorNamingItAndAViewGainingALimitStopsDifferential() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("st_nested", QUERIES.get("st_nested"), "200ms", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("st_simple", QUERIES.get("st_simple"), "200ms", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("st_simple_auto", QUERIES.get("st_simple"), "200ms", "AUTO"));
            api.create(StreamTableSpec.parse("st_aggregated_view", QUERIES.get("st_aggregated_view"), "200ms",
                    "DIFFERENTIAL"));
            engine.start();

            db.execute("DROP VIEW dept_pay", "DROP VIEW emp_dept CASCADE"); // rich_north goes with emp_dept
            await().ignoreExceptions().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                StreamTableRecord aggregated = api.require(QualifiedName.parse("st_aggregated_view"));
                assertThat(aggregated.status()).isIn(Status.ERROR, Status.SUSPENDED);
                assertThat(aggregated.lastError()).contains("public.dept_pay").contains("dropped");
                StreamTableRecord nested = api.require(QualifiedName.parse("st_nested"));
                assertThat(nested.status()).isIn(Status.ERROR, Status.SUSPENDED);
                // The view dropped, or the one its CASCADE took along.
                assertThat(nested.lastError()).containsAnyOf("public.emp_dept", "public.rich_north").contains("dropped");
            });
            assertThat(db.value("SELECT count(*) FROM st_nested")).isEqualTo(1L); // its last good contents

            db.execute("CREATE OR REPLACE VIEW emp_v AS SELECT id, name, dept_id, salary FROM hr.emp ORDER BY id LIMIT 2");
            await().ignoreExceptions().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
                StreamTableRecord simple = api.require(QualifiedName.parse("st_simple"));
                assertThat(simple.status()).isIn(Status.ERROR, Status.SUSPENDED);
                assertThat(simple.lastError()).contains("public.emp_v").contains("LIMIT")
                        .contains("use refresh mode AUTO or FULL");
                StreamTableRecord auto = api.require(QualifiedName.parse("st_simple_auto"));
                assertThat(auto.effectiveMode()).isEqualTo(RefreshMode.FULL);
                assertThat(auto.modeReason()).contains("view public.emp_v").contains("LIMIT");
                assertThat(db.multisetDifference(QUERIES.get("st_simple"), "SELECT " + userColumns("st_simple_auto") + " FROM st_simple_auto")).isEmpty();
            });
            assertThat(db.value("SELECT count(*) FROM st_simple_auto")).isEqualTo(2L);
        }
    }

}
