package io.pgtrickle.core.immediate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * IMMEDIATE stream tables equal a fresh run of their query after every writer statement, inside
 * the writer's transaction and after it, with no engine refresh in between.
 */
@ExtendWith(PostgresExtension.class)
class ImmediateModeIT {
    static final Map<String, String> SHAPES = new LinkedHashMap<>();

    static {
        SHAPES.put("imm_join", "SELECT e.id, e.name, d.dname FROM emp e JOIN dept d ON d.id = e.dept_id");
        SHAPES.put("imm_agg", "SELECT dept_id, count(*) AS n, sum(salary) AS total, avg(salary) AS av,"
                + " max(salary) AS mx, min(salary) AS mn FROM emp GROUP BY dept_id");
        SHAPES.put("imm_distinct", "SELECT DISTINCT dept_id FROM emp");
        SHAPES.put("imm_union", "SELECT dept_id FROM emp UNION SELECT id FROM dept");
        SHAPES.put("imm_exists", "SELECT d.id, d.dname FROM dept d WHERE EXISTS (SELECT 1 FROM emp e WHERE e.dept_id = d.id)");
        SHAPES.put("imm_left", "SELECT d.dname, count(e.id) AS n, sum(e.salary) AS total FROM dept d"
                + " LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.dname");
        SHAPES.put("imm_filter", "SELECT id, salary * 2 AS double_salary FROM emp WHERE salary > 100");
    }

    static void schema(TestDatabase db) {
        db.execute("DROP TABLE IF EXISTS emp, dept CASCADE", "CREATE TABLE dept (id int PRIMARY KEY, dname text NOT NULL)",
                "CREATE TABLE emp (id int PRIMARY KEY, name text, dept_id int, salary numeric)",
                "INSERT INTO dept VALUES (1, 'eng'), (2, 'ops'), (3, 'empty')",
                "INSERT INTO emp VALUES (1, 'ann', 1, 100), (2, 'bob', 1, 200), (3, 'cy', 2, 150), (4, 'dee', NULL, 50)");
    }

    /** Rows in one and not the other (both directions), read on {@code c}: what that transaction sees. */
    static List<String> differences(Connection c, String table, String query) throws SQLException {
        String cols = "SELECT * FROM (" + query + ") q";
        List<String> out = new ArrayList<>();
        try (Statement s = c.createStatement()) {
            String stCols = columnsOf(c, table);
            for (String sql : List.of(
                    "SELECT 'missing', row(q.*)::text FROM (" + cols + " EXCEPT ALL SELECT " + stCols + " FROM " + table + ") q",
                    "SELECT 'extra', row(q.*)::text FROM (SELECT " + stCols + " FROM " + table + " EXCEPT ALL " + cols + ") q")) {
                try (ResultSet rs = s.executeQuery(sql)) {
                    while (rs.next()) {
                        out.add(table + ": " + rs.getString(1) + " " + rs.getString(2));
                    }
                }
            }
        }
        return out;
    }

    private static String columnsOf(Connection c, String table) throws SQLException {
        List<String> names = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT attname FROM pg_attribute WHERE attrelid = '"
                + table + "'::regclass AND attnum > 0 AND NOT attisdropped AND attname NOT LIKE '\\_\\_pgt\\_%' ORDER BY attnum")) {
            while (rs.next()) {
                names.add('"' + rs.getString(1) + '"');
            }
        }
        return String.join(", ", names);
    }

    static void assertExact(Connection c, String when) throws SQLException {
        List<String> diff = new ArrayList<>();
        for (var e : SHAPES.entrySet()) {
            diff.addAll(differences(c, e.getKey(), e.getValue()));
        }
        assertThat(diff).as(when).isEmpty();
    }

    static void run(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    @Test
    void everyStatementIsAppliedInTheWritersTransaction(TestDatabase db) throws Exception {
        schema(db);
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection w = db.connect()) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            for (var e : SHAPES.entrySet()) {
                api.create(StreamTableSpec.parse(e.getKey(), e.getValue(), "1m", "IMMEDIATE"));
            }
            assertThat(db.value("SELECT string_agg(DISTINCT refresh_mode || '/' || effective_mode, ',')"
                    + " FROM pgtrickle.pgt_stream_tables")).isEqualTo("IMMEDIATE/IMMEDIATE");
            assertExact(w, "after create");

            // autocommit statements
            run(w, "INSERT INTO emp VALUES (5, 'eve', 3, 300), (6, 'fay', 2, 150)");
            assertExact(w, "after insert");
            run(w, "UPDATE emp SET salary = salary + 1 WHERE dept_id = 1");
            assertExact(w, "after update");

            // several statements in one transaction, checked inside and after
            w.setAutoCommit(false);
            List<String> statements = List.of(
                    "INSERT INTO emp VALUES (7, 'gus', 1, 120)",
                    "UPDATE emp SET id = id + 100 WHERE id IN (1, 3)",
                    "UPDATE emp SET dept_id = 2 WHERE id = 2",
                    "DELETE FROM emp WHERE id = 5",
                    "INSERT INTO emp VALUES (2, 'bob', 3, 999), (8, 'hal', 1, 10) ON CONFLICT (id) DO UPDATE"
                            + " SET dept_id = excluded.dept_id, salary = excluded.salary",
                    "INSERT INTO dept VALUES (4, 'new')",
                    "UPDATE dept SET dname = 'engineering' WHERE id = 1",
                    "UPDATE emp SET dept_id = 4 WHERE dept_id IS NULL",
                    "DELETE FROM dept WHERE id = 2",
                    "UPDATE emp SET salary = NULL WHERE id = 7");
            for (String sql : statements) {
                run(w, sql);
                assertExact(w, "inside the transaction, after " + sql);
            }
            w.commit();
            assertExact(w, "after commit");
            try (Connection other = db.connect()) {
                assertExact(other, "after commit, another session");
            }

            // rollback leaves the stream tables as they were
            run(w, "DELETE FROM emp WHERE dept_id = 1");
            run(w, "INSERT INTO dept VALUES (9, 'gone')");
            assertExact(w, "inside the transaction to roll back");
            w.rollback();
            assertExact(w, "after rollback");

            // TRUNCATE recomputes; writes after it in the same transaction apply too
            run(w, "TRUNCATE emp");
            assertExact(w, "after truncate");
            run(w, "INSERT INTO emp VALUES (1, 'ann', 1, 100), (2, 'bob', NULL, 5)");
            assertExact(w, "after truncate and insert");
            w.commit();
            assertExact(w, "after the truncate commits");
            w.setAutoCommit(true);

            // a source row that joins nothing and a statement that changes nothing
            run(w, "UPDATE emp SET salary = salary WHERE id = 1");
            run(w, "DELETE FROM emp WHERE id = 12345");
            assertExact(w, "after no-op statements");

            // the engine's refresh neither applies the changes a second time nor fails
            for (String name : SHAPES.keySet()) {
                assertThat(api.refresh(name).action()).isEqualTo("IMMEDIATE");
            }
            assertExact(w, "after engine refreshes");
            assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE action = 'DIFFERENTIAL'"
                    + " AND pgt_id IN (SELECT pgt_id FROM pgtrickle.pgt_stream_tables)"))
                    .isEqualTo(0L);

            // a column added to a source: the triggers keep working before the engine re-plans
            run(w, "ALTER TABLE emp ADD COLUMN extra int DEFAULT 7");
            run(w, "INSERT INTO emp VALUES (70, 'col', 2, 42, 1)");
            run(w, "UPDATE emp SET extra = 2, salary = 43 WHERE id = 70");
            assertExact(w, "after a column was added to a source");

            // a writer with grants on the sources only: the triggers run as the engine
            db.execute("DROP ROLE IF EXISTS imm_writer", "CREATE ROLE imm_writer",
                    "GRANT SELECT, INSERT, UPDATE, DELETE ON emp, dept TO imm_writer");
            run(w, "SET ROLE imm_writer");
            run(w, "SET search_path = pg_catalog, public");
            run(w, "INSERT INTO emp VALUES (60, 'role', 1, 77)");
            run(w, "UPDATE dept SET dname = 'renamed' WHERE id = 1");
            run(w, "RESET ROLE");
            run(w, "RESET search_path");
            assertExact(w, "after writes by a role without grants on the stream tables");

            // dropping the stream tables removes their triggers
            EngineFixture.dropAllStreamTables(api);
            assertThat(db.value("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\\_\\_pgt\\_imm\\_%'")).isEqualTo(0L);
            run(w, "INSERT INTO emp VALUES (50, 'zed', 1, 1)");
        }
    }

    /**
     * Through the SQL functions, with the engine running (its scheduler refreshes every 1s
     * schedule): writes are visible at once and never applied a second time by a refresh.
     */
    @Test
    void theSqlFunctionsCreateAndAlterImmediateStreamTablesWhileTheSchedulerRuns(TestDatabase db) throws Exception {
        try (PgTrickleEngine engine = EngineFixture.open(db).start(); Connection w = db.connect()) {
            EngineFixture.dropAllStreamTables(engine.streamTables());
            schema(db);
            String query = SHAPES.get("imm_agg");
            long id = (Long) db.value("SELECT pgtrickle.create_stream_table('imm_agg', $$" + query + "$$,"
                    + " schedule => '1s', refresh_mode => 'immediate')");
            db.value("SELECT pgtrickle.await_request(?, '20 seconds')", id);
            assertThat(db.rows("SELECT refresh_mode, effective_mode FROM pgtrickle.pgt_status() WHERE name = 'public.imm_agg'"))
                    .containsExactly(List.of("IMMEDIATE", "IMMEDIATE"));
            assertThat(engine.streamTables().explain(io.pgtrickle.core.sql.QualifiedName.parse("imm_agg")).render())
                    .contains("refresh mode  IMMEDIATE -> IMMEDIATE");
            for (int i = 0; i < 10; i++) {
                run(w, "INSERT INTO emp VALUES (" + (500 + i) + ", 'n', " + (i % 3) + ", " + i + ")");
                run(w, "UPDATE emp SET salary = salary + 1 WHERE id = " + (500 + i / 2));
                assertThat(differences(w, "imm_agg", query)).as("write " + i).isEmpty();
                Thread.sleep(150);
            }
            Thread.sleep(1500); // a scheduled refresh or two
            assertThat(differences(w, "imm_agg", query)).as("after scheduled refreshes").isEmpty();
            assertThat(db.value("SELECT frontier IS NOT NULL FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'imm_agg'"))
                    .isEqualTo(true);
            long alter = (Long) db.value("SELECT pgtrickle.alter_stream_table('imm_agg', refresh_mode => 'DIFFERENTIAL')");
            db.value("SELECT pgtrickle.await_request(?, '20 seconds')", alter);
            run(w, "DELETE FROM emp WHERE id = 500");
            long refresh = (Long) db.value("SELECT pgtrickle.refresh_stream_table('imm_agg')");
            db.value("SELECT pgtrickle.await_request(?, '20 seconds')", refresh);
            assertThat(differences(w, "imm_agg", query)).as("DIFFERENTIAL again, refreshed").isEmpty();
            assertThat(db.value("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\\_\\_pgt\\_imm\\_%'")).isEqualTo(0L);
        }
    }

    /** Partitions and inheritance children written directly, and the parents written through. */
    @Test
    void writesToPartitionsAndChildrenAreSeen(TestDatabase db) throws Exception {
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection w = db.connect()) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            db.execute("DROP TABLE IF EXISTS meas, hist CASCADE",
                    "CREATE TABLE meas (id int, region text NOT NULL, v int, PRIMARY KEY (id, region)) PARTITION BY LIST (region)",
                    "CREATE TABLE meas_n PARTITION OF meas FOR VALUES IN ('n')",
                    "CREATE TABLE meas_s PARTITION OF meas FOR VALUES IN ('s') PARTITION BY RANGE (id)",
                    "CREATE TABLE meas_s_low PARTITION OF meas_s FOR VALUES FROM (MINVALUE) TO (100)",
                    "CREATE TABLE meas_s_high PARTITION OF meas_s FOR VALUES FROM (100) TO (MAXVALUE)",
                    "CREATE TABLE hist (id int PRIMARY KEY, v int)", "CREATE TABLE hist_child (note text) INHERITS (hist)",
                    "INSERT INTO meas VALUES (1, 'n', 1), (2, 's', 2), (200, 's', 3)",
                    "INSERT INTO hist VALUES (1, 10)", "INSERT INTO hist_child VALUES (2, 20, 'x')");
            String byRegion = "SELECT region, count(*) AS n, sum(v) AS total FROM meas GROUP BY region";
            String hist = "SELECT id, v FROM hist";
            api.create(StreamTableSpec.parse("imm_meas", byRegion, "1m", "IMMEDIATE"));
            api.create(StreamTableSpec.parse("imm_hist", hist, "1m", "IMMEDIATE"));
            for (String sql : List.of("INSERT INTO meas_n VALUES (3, 'n', 5)", "INSERT INTO meas_s_high VALUES (300, 's', 7)",
                    "INSERT INTO meas VALUES (4, 's', 9)", "UPDATE meas SET region = 'n' WHERE id = 4",
                    "UPDATE meas_s_low SET v = v + 1", "DELETE FROM meas_n WHERE id = 1", "TRUNCATE meas_s_high",
                    "INSERT INTO hist_child VALUES (3, 30, 'y')", "UPDATE hist SET v = v * 2", "DELETE FROM hist_child WHERE id = 2",
                    "UPDATE hist_child SET v = 0")) {
                run(w, sql);
                List<String> diff = new ArrayList<>(differences(w, "imm_meas", byRegion));
                diff.addAll(differences(w, "imm_hist", hist));
                assertThat(diff).as("after " + sql).isEmpty();
            }
        }
    }

    @Test
    void queriesWithoutADeltaRuleAreRefusedByName(TestDatabase db) throws Exception {
        schema(db);
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            assertThatThrownBy(() -> api.create(StreamTableSpec.parse("imm_clock",
                    "SELECT id FROM emp WHERE salary > 0 AND now() > '2000-01-01'::timestamptz", "1m", "IMMEDIATE")))
                    .hasMessageContaining("IMMEDIATE");
            assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'imm_clock'")).isEqualTo(0L);
        }
    }
}
