package io.pgtrickle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The SQL functions inside the database, carried out by a running engine. */
@ExtendWith(PostgresExtension.class)
class SqlSurfaceIT {
    private static PgTrickleEngine engine;
    private final TestDatabase db;

    SqlSurfaceIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void start(TestDatabase db) {
        engine = EngineFixture.open(db).start();
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    @BeforeEach
    void schema() {
        EngineFixture.dropAllStreamTables(engine.streamTables());
        db.execute("TRUNCATE pgtrickle.pgt_refresh_history, pgtrickle.pgt_requests RESTART IDENTITY",
                "DROP TABLE IF EXISTS sales CASCADE",
                "CREATE TABLE sales (id int PRIMARY KEY, region text NOT NULL, amount int NOT NULL)",
                "INSERT INTO sales VALUES (1, 'north', 10), (2, 'north', 5), (3, 'south', 7)");
    }

    /** Runs {@code sql} (returning a request id), then waits for the engine to carry it out. */
    private long request(String sql) {
        long id = (Long) db.value(sql);
        db.value("SELECT pgtrickle.await_request(?, '10 seconds')", id);
        return id;
    }

    private static final String REGION_TOTALS =
            "SELECT region, sum(amount) AS total FROM sales GROUP BY region";

    @Test
    void createStreamTableThroughSqlIsCarriedOutByTheEngine() {
        long started = System.nanoTime();
        request("SELECT pgtrickle.create_stream_table(name => 'region_totals', query => $$" + REGION_TOTALS
                + "$$, schedule => '30s')");
        long tookMillis = (System.nanoTime() - started) / 1_000_000;

        assertThat(tookMillis).as("request applied within about a second").isLessThan(5_000);
        assertThat(db.multisetDifference("SELECT region, total FROM region_totals", REGION_TOTALS)).isEmpty();
        assertThat(db.rows("SELECT name, status, refresh_mode, effective_mode, schedule, data_timestamp IS NOT NULL, "
                + "staleness >= '0'::interval, last_error FROM pgtrickle.pgt_status()")).containsExactly(
                java.util.Arrays.asList("public.region_totals", "ACTIVE", "AUTO", "DIFFERENTIAL", "30s", true, true, null));
        assertThat(db.rows("SELECT state, requested_by::text FROM pgtrickle.pgt_requests"))
                .containsExactly(List.of("DONE", "postgres"));
    }

    @Test
    void refreshAlterCreateOrReplaceAndDropThroughSql() {
        request("SELECT pgtrickle.create_stream_table('region_totals', $$" + REGION_TOTALS + "$$)");
        db.execute("INSERT INTO sales VALUES (4, 'east', 1)");

        request("SELECT pgtrickle.refresh_stream_table('region_totals')");
        assertThat(db.multisetDifference("SELECT region, total FROM region_totals", REGION_TOTALS)).isEmpty();
        assertThat(db.rows("SELECT trigger FROM pgtrickle.pgt_refresh_history ORDER BY refresh_id"))
                .containsExactly(List.of("CREATE"), List.of("MANUAL"));

        request("SELECT pgtrickle.alter_stream_table('region_totals', schedule => '5m', status => 'suspended')");
        assertThat(db.rows("SELECT schedule, status FROM pgtrickle.pgt_status()"))
                .containsExactly(List.of("5m", "SUSPENDED"));
        request("SELECT pgtrickle.alter_stream_table('region_totals', status => 'active')");
        assertThat(db.value("SELECT status FROM pgtrickle.pgt_status()")).isEqualTo("ACTIVE");

        String withCount = "SELECT region, sum(amount) AS total, count(*) AS n FROM sales GROUP BY region";
        request("SELECT pgtrickle.alter_stream_table('region_totals', query => $$" + withCount + "$$)");
        assertThat(db.multisetDifference("SELECT region, total, n FROM region_totals", withCount)).isEmpty();

        long before = (Long) db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history");
        request("SELECT pgtrickle.create_or_replace_stream_table('region_totals', $$" + withCount + "$$, '5m', 'AUTO')");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history")).as("identical: no-op").isEqualTo(before);
        request("SELECT pgtrickle.create_or_replace_stream_table('region_totals', $$" + REGION_TOTALS + "$$, '5m', 'FULL')");
        assertThat(db.rows("SELECT refresh_mode, effective_mode FROM pgtrickle.pgt_status()"))
                .containsExactly(List.of("FULL", "FULL"));
        assertThat(db.multisetDifference("SELECT region, total FROM region_totals", REGION_TOTALS)).isEmpty();

        request("SELECT pgtrickle.drop_stream_table('region_totals')");
        assertThat(db.value("SELECT to_regclass('region_totals') IS NULL")).isEqualTo(true);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_status()")).isEqualTo(0L);
    }

    @Test
    void diamondConsistencyIsSetByCreateAndAlterAndCheckedAtOnce() {
        request("SELECT pgtrickle.create_stream_table('north', $$SELECT sum(amount) AS s FROM sales WHERE region = 'north'$$)");
        request("SELECT pgtrickle.create_stream_table('south', $$SELECT sum(amount) AS s FROM sales WHERE region = 'south'$$)");
        request("SELECT pgtrickle.create_stream_table('both_regions', $$SELECT n.s AS north, s.s AS south FROM north n, south s$$,"
                + " diamond_consistency => 'ATOMIC')");
        assertThat(db.value("SELECT diamond_consistency FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'both_regions'"))
                .isEqualTo("atomic");
        assertThat(db.value("SELECT array_to_string(members, ',') FROM pgtrickle.diamond_groups()"))
                .isEqualTo("public.north,public.south");
        request("SELECT pgtrickle.alter_stream_table('both_regions', diamond_consistency => 'none')");
        assertThat(db.value("SELECT diamond_consistency FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'both_regions'"))
                .isEqualTo("none");
        assertSqlError("SELECT pgtrickle.alter_stream_table('both_regions', diamond_consistency => 'strict')",
                "invalid diamond consistency \"strict\"");
    }

    @Test
    void mistakesTheFunctionsCanSeeFailTheCallersStatementAtOnce() {
        request("SELECT pgtrickle.create_stream_table('region_totals', $$" + REGION_TOTALS + "$$)");
        request("SELECT pgtrickle.create_stream_table('grand', $$SELECT sum(total) AS t FROM region_totals$$)");

        assertSqlError("SELECT pgtrickle.create_stream_table('x', 'SELECT 1 AS a', schedule => 'often')",
                "invalid schedule \"often\"");
        assertSqlError("SELECT pgtrickle.create_stream_table('x', 'SELECT 1 AS a', refresh_mode => 'FAST')",
                "invalid refresh mode \"FAST\"");
        assertSqlError("SELECT pgtrickle.create_stream_table('x', 'SELECT * FROM missing')",
                "relation \"missing\" does not exist");
        assertSqlError("SELECT pgtrickle.create_stream_table('x', 'SELECT nope FROM sales')",
                "column \"nope\" does not exist");
        assertSqlError("SELECT pgtrickle.create_stream_table('x', 'SELECT 1 AS a) q; DROP TABLE sales; SELECT (1')",
                "single SELECT statement");
        assertSqlError("SELECT pgtrickle.create_stream_table('region_totals', 'SELECT 1 AS a')",
                "stream table public.region_totals already exists");
        assertSqlError("SELECT pgtrickle.create_stream_table('sales', 'SELECT 1 AS a')",
                "relation public.sales already exists");
        assertSqlError("SELECT pgtrickle.drop_stream_table('region_totals')",
                "stream tables public.grand read it");
        assertSqlError("SELECT pgtrickle.refresh_stream_table('ghost')", "stream table public.ghost does not exist");
        assertSqlError("SELECT pgtrickle.alter_stream_table('region_totals')", "nothing to alter");

        assertThat(db.value("SELECT to_regclass('sales') IS NOT NULL")).isEqualTo(true);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_requests WHERE request_id > 2")).isEqualTo(0L);
    }

    @Test
    void aRequestThatFailsInTheEngineLeavesItsErrorInStatus() {
        long id = (Long) db.value("SELECT pgtrickle.create_stream_table('diffy', 'SELECT id, random() AS r FROM sales',"
                + " refresh_mode => 'DIFFERENTIAL')");

        assertThatThrownBy(() -> db.value("SELECT pgtrickle.await_request(?)", id))
                .hasMessageContaining("cannot be maintained differentially");
        assertThat(db.rows("SELECT name, status, last_error LIKE '%cannot be maintained differentially%' "
                + "FROM pgtrickle.pgt_status()")).containsExactly(List.of("public.diffy", "FAILED", true));

        request("SELECT pgtrickle.create_stream_table('region_totals', $$" + REGION_TOTALS + "$$)");
        long alter = (Long) db.value("SELECT pgtrickle.alter_stream_table('region_totals', "
                + "query => 'SELECT region, sum(total) AS total FROM region_totals GROUP BY region')");
        assertThatThrownBy(() -> db.value("SELECT pgtrickle.await_request(?)", alter))
                .hasMessageContaining("would read public.region_totals itself");
        assertThat(db.rows("SELECT status, last_error LIKE '%would read public.region_totals itself%' "
                + "FROM pgtrickle.pgt_status() WHERE name = 'public.region_totals'"))
                .containsExactly(List.of("ACTIVE", true));
    }

    @Test
    void explainStreamTableSaysHowAndWhy() {
        request("SELECT pgtrickle.create_stream_table('region_totals', $$" + REGION_TOTALS + "$$)");
        request("SELECT pgtrickle.create_stream_table('ranked', $$SELECT id FROM sales ORDER BY amount DESC LIMIT 3$$)");

        assertThat((String) db.value("SELECT pgtrickle.explain_stream_table('region_totals')"))
                .contains("refresh mode  AUTO -> DIFFERENTIAL").contains("algebraic aggregates")
                .contains("public.sales (TABLE)").contains("delta SQL");
        assertThat((String) db.value("SELECT pgtrickle.explain_stream_table('ranked')"))
                .contains("AUTO -> DIFFERENTIAL").contains("top-k (\"__pgt_sort_0\" DESC NULLS FIRST LIMIT 3)")
                .contains("row 3 of the query now");
        assertThat(db.value("SELECT pgtrickle.explain_stream_table('ghost')")).isNull();
    }

    @Test
    void aRoleThatCannotReadTheSourcesCannotDefineAStreamTableOverThem() {
        db.execute("DROP ROLE IF EXISTS outsider", "CREATE ROLE outsider",
                "GRANT USAGE ON SCHEMA pgtrickle TO outsider",
                "GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA pgtrickle TO outsider",
                "GRANT SELECT, INSERT ON pgtrickle.pgt_requests, pgtrickle.pgt_stream_tables TO outsider",
                "GRANT USAGE ON ALL SEQUENCES IN SCHEMA pgtrickle TO outsider");
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute("SET ROLE outsider");
            assertThatThrownBy(() -> s.execute("SELECT pgtrickle.create_stream_table('peek', 'SELECT * FROM sales')"))
                    .hasMessageContaining("permission denied for table sales");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        assertThat(db.value("SELECT to_regclass('peek') IS NULL")).isEqualTo(true);
    }

    @Test
    void theScheduleKeepsAStreamTableFreshWithoutRequests() {
        request("SELECT pgtrickle.create_stream_table('region_totals', $$" + REGION_TOTALS + "$$, schedule => '200ms')");
        db.execute("INSERT INTO sales VALUES (9, 'west', 3)");

        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                db.multisetDifference("SELECT region, total FROM region_totals", REGION_TOTALS)).isEmpty());
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE trigger = 'SCHEDULE'"))
                .isNotEqualTo(0L);
    }

    private void assertSqlError(String sql, String message) {
        assertThatThrownBy(() -> db.execute(sql)).hasMessageContaining(message);
    }
}
