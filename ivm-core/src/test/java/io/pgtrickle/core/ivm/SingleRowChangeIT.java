package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.refresh.RefreshResult;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * For each construct maintained differentially, one changed source row touches only the stream
 * table rows it affects: the others keep their physical version (xmin), and the refresh reports
 * just the affected rows.
 */
@ExtendWith(PostgresExtension.class)
class SingleRowChangeIT {
    private static PgTrickleEngine engine;
    private static StreamTables api;
    private final TestDatabase db;

    SingleRowChangeIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void open(TestDatabase db) {
        engine = EngineFixture.open(db);
        api = engine.streamTables();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @BeforeEach
    void data() {
        EngineFixture.dropAllStreamTables(api);
        db.execute("DROP TABLE IF EXISTS emp, dept CASCADE",
                "CREATE TABLE dept (id int PRIMARY KEY, name text NOT NULL)",
                "CREATE TABLE emp (id int PRIMARY KEY, dept_id int NOT NULL, salary int NOT NULL)",
                "INSERT INTO dept SELECT g, 'd' || g FROM generate_series(1, 20) g",
                "INSERT INTO emp SELECT g, 1 + g % 20, 100 + g FROM generate_series(1, 1000) g");
    }

    /** Changes one emp row, refreshes, and returns how many stream table rows got a new version. */
    private long rowsRewrittenBy(String streamTable, String change, RefreshResult[] result) {
        String versions = "SELECT __pgt_row_id, xmin::text AS v FROM " + streamTable;
        db.execute("DROP TABLE IF EXISTS before_versions", "CREATE TABLE before_versions AS " + versions);
        db.execute(change);
        result[0] = api.refresh(streamTable);
        assertThat(result[0].action()).isEqualTo("DIFFERENTIAL");
        return (Long) db.value("SELECT count(*) FROM (" + versions + ") now"
                + " LEFT JOIN before_versions b USING (__pgt_row_id) WHERE b.v IS DISTINCT FROM now.v");
    }

    @Test
    void filterAndProjectionTouchOnlyTheChangedRow() {
        api.create(StreamTableSpec.parse("rich", "SELECT id, salary * 2 AS double_salary FROM emp WHERE salary > 500",
                "calculated", null));
        RefreshResult[] r = new RefreshResult[1];
        assertThat(rowsRewrittenBy("rich", "UPDATE emp SET salary = salary + 1 WHERE id = 900", r)).isEqualTo(1);
        assertThat(r[0].rowsInserted()).isEqualTo(1);
        assertThat(r[0].rowsDeleted()).isEqualTo(1);
    }

    @Test
    void aJoinTouchesOnlyTheJoinedRowsOfTheChange() {
        api.create(StreamTableSpec.parse("staff", "SELECT e.id, d.name FROM emp e JOIN dept d ON d.id = e.dept_id",
                "calculated", null));
        RefreshResult[] r = new RefreshResult[1];
        assertThat(rowsRewrittenBy("staff", "UPDATE emp SET dept_id = 2 WHERE id = 10", r)).isEqualTo(1);
        // A department rename reaches exactly its 50 employees.
        assertThat(rowsRewrittenBy("staff", "UPDATE dept SET name = 'renamed' WHERE id = 7", r)).isEqualTo(50);
    }

    @Test
    void groupByTouchesOnlyTheAffectedGroups() {
        api.create(StreamTableSpec.parse("per_dept", "SELECT dept_id, count(*) AS n, sum(salary) AS total,"
                + " max(salary) AS top FROM emp GROUP BY dept_id", "calculated", null));
        RefreshResult[] r = new RefreshResult[1];
        assertThat(rowsRewrittenBy("per_dept", "UPDATE emp SET salary = 1 WHERE id = 5", r)).isEqualTo(1);
        // Moving an employee changes two groups.
        assertThat(rowsRewrittenBy("per_dept", "UPDATE emp SET dept_id = 3 WHERE id = 6", r)).isEqualTo(2);
        assertThat(db.value("SELECT count(*) FROM per_dept")).isEqualTo(20L);
    }

    @Test
    void autoRefreshesFullWhenMostOfTheSourceChanged() {
        db.execute("ANALYZE emp");
        api.create(StreamTableSpec.parse("auto_totals", "SELECT dept_id, sum(salary) AS total FROM emp GROUP BY dept_id",
                "calculated", "AUTO"));
        api.create(StreamTableSpec.parse("diff_totals", "SELECT dept_id, sum(salary) AS total FROM emp GROUP BY dept_id",
                "calculated", "DIFFERENTIAL"));
        db.execute("UPDATE emp SET salary = salary + 1 WHERE id <= 600");

        assertThat(api.refresh("auto_totals").action()).isEqualTo("FULL");
        assertThat(api.refresh("diff_totals").action()).as("explicit DIFFERENTIAL is kept").isEqualTo("DIFFERENTIAL");
        assertThat(db.multisetDifference("SELECT dept_id, total FROM auto_totals", "SELECT dept_id, total FROM diff_totals"))
                .isEmpty();
        db.execute("UPDATE emp SET salary = salary + 1 WHERE id = 1");
        assertThat(api.refresh("auto_totals").action()).isEqualTo("DIFFERENTIAL");
    }

    @Test
    void userColumnsNamedLikeInternalOnesDoNotCollide() {
        db.execute("DROP TABLE IF EXISTS odd", "CREATE TABLE odd (id int PRIMARY KEY, __w int, weight int)",
                "INSERT INTO odd VALUES (1, 10, 100), (2, 20, 200)");
        api.create(StreamTableSpec.parse("odd_pairs", "SELECT a.id, a.__w + b.weight AS s FROM odd a JOIN odd b"
                + " ON a.id <> b.id", "calculated", "DIFFERENTIAL"));
        db.execute("UPDATE odd SET __w = 11 WHERE id = 1", "INSERT INTO odd VALUES (3, 30, 300)");

        assertThat(api.refresh("odd_pairs").action()).isEqualTo("DIFFERENTIAL");
        assertThat(db.multisetDifference("SELECT id, s FROM odd_pairs",
                "SELECT a.id, a.__w + b.weight FROM odd a JOIN odd b ON a.id <> b.id")).isEmpty();
    }

    @Test
    void distinctAndGlobalAggregatesTouchOnlyWhatChanged() {
        api.create(StreamTableSpec.parse("depts_in_use", "SELECT DISTINCT dept_id FROM emp", "calculated", null));
        api.create(StreamTableSpec.parse("payroll", "SELECT sum(salary) AS total FROM emp", "calculated", null));
        RefreshResult[] r = new RefreshResult[1];
        assertThat(rowsRewrittenBy("depts_in_use", "UPDATE emp SET salary = 7 WHERE id = 8", r)).isZero();
        assertThat(rowsRewrittenBy("payroll", "UPDATE emp SET salary = 7 WHERE id = 9", r)).isEqualTo(1);
    }

    @Test
    void outerJoinsTouchOnlyTheRowsWhoseMatchChanged() {
        db.execute("INSERT INTO dept VALUES (21, 'empty')");
        api.create(StreamTableSpec.parse("dept_staff", "SELECT d.id, e.id AS emp_id FROM dept d LEFT JOIN emp e"
                + " ON e.dept_id = d.id", "calculated", "DIFFERENTIAL"));
        api.create(StreamTableSpec.parse("all_pairs", "SELECT d.name, e.id AS emp_id FROM dept d FULL JOIN emp e"
                + " ON e.dept_id = d.id", "calculated", "DIFFERENTIAL"));
        RefreshResult[] r = new RefreshResult[1];
        // The first employee of department 21 replaces its NULL-padded row: one row out, one in.
        assertThat(rowsRewrittenBy("dept_staff", "UPDATE emp SET dept_id = 21 WHERE id = 10", r)).isEqualTo(1);
        assertThat(r[0].rowsDeleted()).isEqualTo(2); // the padded row and the employee's old pairing
        api.refresh("all_pairs");
        assertThat(rowsRewrittenBy("all_pairs", "UPDATE emp SET salary = 0 WHERE id = 11", r)).isZero();
        assertThat(rowsRewrittenBy("all_pairs", "DELETE FROM dept WHERE id = 21", r)).isEqualTo(1);
    }

    @Test
    void subqueriesInWhereTouchOnlyTheOuterRowsTheyFlip() {
        api.create(StreamTableSpec.parse("staffed", "SELECT d.id FROM dept d WHERE EXISTS (SELECT 1 FROM emp e"
                + " WHERE e.dept_id = d.id AND e.salary > 1500)", "calculated", "DIFFERENTIAL"));
        api.create(StreamTableSpec.parse("not_top", "SELECT e.id FROM emp e WHERE e.dept_id NOT IN (SELECT id FROM dept"
                + " WHERE name = 'top')", "calculated", "DIFFERENTIAL"));
        api.create(StreamTableSpec.parse("heads", "SELECT d.id, (SELECT max(e.salary) FROM emp e WHERE e.dept_id = d.id)"
                + " AS top FROM dept d", "calculated", "DIFFERENTIAL"));
        RefreshResult[] r = new RefreshResult[1];
        assertThat(rowsRewrittenBy("staffed", "UPDATE emp SET salary = 2000 WHERE id = 3", r)).isEqualTo(1);
        assertThat(rowsRewrittenBy("not_top", "UPDATE dept SET name = 'top' WHERE id = 4", r)).isZero();
        assertThat(r[0].rowsDeleted()).isEqualTo(50);
        api.refresh("heads"); // takes in the changes above: only department 4's top moved
        assertThat(db.value("SELECT top FROM heads WHERE id = 4")).isEqualTo(2000);
        assertThat(rowsRewrittenBy("heads", "UPDATE emp SET salary = 5000 WHERE id = 7", r)).isEqualTo(1);
    }

    @Test
    void subqueriesInFromAndCtesTouchOnlyTheAffectedRows() {
        api.create(StreamTableSpec.parse("big_depts", "SELECT s.dept_id, s.n FROM (SELECT dept_id, count(*) AS n"
                + " FROM emp GROUP BY dept_id) s WHERE s.n >= 50", "calculated", "DIFFERENTIAL"));
        api.create(StreamTableSpec.parse("cte_pay", "WITH pay AS (SELECT id, dept_id, salary * 12 AS yearly FROM emp)"
                + " SELECT p.id, d.name, p.yearly FROM pay p JOIN dept d ON d.id = p.dept_id", "calculated", "DIFFERENTIAL"));
        RefreshResult[] r = new RefreshResult[1];
        assertThat(rowsRewrittenBy("big_depts", "DELETE FROM emp WHERE id = 20", r)).isZero(); // dept 1 drops to 49
        assertThat(r[0].rowsDeleted()).isEqualTo(1);
        assertThat(rowsRewrittenBy("cte_pay", "UPDATE emp SET salary = 1 WHERE id = 30", r)).isEqualTo(1);
    }

    @Test
    void setOperationsTouchOnlyTheRowsWhoseMultiplicityChanged() {
        api.create(StreamTableSpec.parse("ids", "SELECT dept_id AS id FROM emp UNION SELECT id FROM dept",
                "calculated", "DIFFERENTIAL"));
        api.create(StreamTableSpec.parse("unstaffed", "SELECT id FROM dept EXCEPT SELECT dept_id FROM emp",
                "calculated", "DIFFERENTIAL"));
        RefreshResult[] r = new RefreshResult[1];
        assertThat(rowsRewrittenBy("ids", "UPDATE emp SET dept_id = 99 WHERE id = 40", r)).isEqualTo(1);
        assertThat(rowsRewrittenBy("unstaffed", "INSERT INTO dept VALUES (22, 'new')", r)).isEqualTo(1);
        assertThat(db.value("SELECT count(*) FROM unstaffed")).isEqualTo(1L);
    }

    @Test
    void distinctOnTouchesOnlyTheChangedKey() {
        api.create(StreamTableSpec.parse("best_paid", "SELECT DISTINCT ON (dept_id) dept_id, id, salary FROM emp"
                + " ORDER BY dept_id, salary DESC, id", "calculated", "DIFFERENTIAL"));
        RefreshResult[] r = new RefreshResult[1];
        assertThat(rowsRewrittenBy("best_paid", "UPDATE emp SET salary = 9999 WHERE id = 41", r)).isEqualTo(1);
        assertThat(db.value("SELECT id FROM best_paid WHERE dept_id = 2")).isEqualTo(41);
    }

    @Test
    void algebraicAggregatesKeepTheirStateAcrossRefreshesThatChangeNoOutput() {
        api.create(StreamTableSpec.parse("dept_count", "SELECT count(*) AS depts, sum(total) AS total FROM"
                + " (SELECT dept_id, sum(salary) AS total FROM emp GROUP BY dept_id) s WHERE dept_id > 10",
                "calculated", "DIFFERENTIAL"));
        RefreshResult[] r = new RefreshResult[1];
        // Department 1 is filtered out: the delta of the outer aggregate is empty.
        assertThat(rowsRewrittenBy("dept_count", "UPDATE emp SET salary = salary + 1 WHERE id = 20", r)).isZero();
        assertThat(rowsRewrittenBy("dept_count", "UPDATE emp SET salary = salary + 5000 WHERE id = 39", r)).isEqualTo(1);
        assertThat(db.multisetDifference("SELECT depts, total FROM dept_count", "SELECT count(*), sum(total) FROM"
                + " (SELECT dept_id, sum(salary) AS total FROM emp GROUP BY dept_id) s WHERE dept_id > 10")).isEmpty();
    }

    @Test
    void windowFunctionsTouchOnlyTheRowsOfTheChangedPartitionWhoseValuesMoved() {
        api.create(StreamTableSpec.parse("ranked", "SELECT id, dept_id, salary, rank() OVER (PARTITION BY dept_id"
                + " ORDER BY salary DESC) AS r FROM emp", "calculated", "DIFFERENTIAL"));
        RefreshResult[] r = new RefreshResult[1];
        // Employee 20 stays the lowest paid of department 1: only its own row changes.
        assertThat(rowsRewrittenBy("ranked", "UPDATE emp SET salary = salary + 1 WHERE id = 20", r)).isEqualTo(1);
        // Employee 40, second lowest of department 1's 50, overtakes everybody: its row and the 48 ranked
        // above it move; the lowest keeps its rank and no other department is touched.
        assertThat(rowsRewrittenBy("ranked", "UPDATE emp SET salary = 5000 WHERE id = 40", r)).isEqualTo(49);
    }
}
