package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.RefreshMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The multiset invariant under random changes: after every differential refresh, each stream table
 * equals a fresh run of its defining query (both directions of EXCEPT ALL), and the refresh really
 * was differential. Seeded: {@code -Dpgtrickle.seed=N} replays a run, {@code -Dpgtrickle.cycles=N}
 * runs longer.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DifferentialHarnessIT {
    /** Query shapes the compiler maintains differentially today, by name. */
    static final Map<String, String> SHAPES = new LinkedHashMap<>();

    static {
        SHAPES.put("filter_project", "SELECT id, name, salary * 2 AS double_salary FROM emp WHERE salary > 50");
        SHAPES.put("keyless_duplicates", "SELECT dept_id, bonus FROM emp");
        SHAPES.put("select_star", "SELECT * FROM dept");
        SHAPES.put("inner_join", "SELECT e.name, d.name AS dept FROM emp e JOIN dept d ON e.dept_id = d.id");
        SHAPES.put("comma_join_filter", "SELECT e.id, d.region FROM emp e, dept d WHERE e.dept_id = d.id AND d.region <> 'west'");
        SHAPES.put("self_join", "SELECT a.id AS a_id, b.id AS b_id FROM emp a JOIN emp b ON a.dept_id = b.dept_id AND a.id < b.id");
        SHAPES.put("non_equi_join", "SELECT e.id, d.id AS did FROM emp e JOIN dept d ON e.salary > d.id * 20");
        SHAPES.put("three_way_join", "SELECT e.id, d.name, m.name AS manager FROM emp e JOIN dept d ON e.dept_id = d.id"
                + " JOIN emp m ON m.id = d.manager_id");
        SHAPES.put("group_count_sum_avg", "SELECT dept_id, count(*) AS n, sum(salary) AS total, avg(salary) AS mean"
                + " FROM emp GROUP BY dept_id");
        SHAPES.put("join_group_having", "SELECT d.region, count(*) AS n FROM emp e JOIN dept d ON e.dept_id = d.id"
                + " GROUP BY d.region HAVING count(*) > 1");
        SHAPES.put("min_max", "SELECT dept_id, min(salary) AS lo, max(salary) AS hi FROM emp GROUP BY dept_id");
        SHAPES.put("distinct_rows", "SELECT DISTINCT dept_id, bonus FROM emp");
        SHAPES.put("global_aggregate", "SELECT count(*) AS n, sum(bonus) AS b, max(name) AS last_name FROM emp");
        SHAPES.put("string_agg", "SELECT dept_id, string_agg(name, ',' ORDER BY name) AS names FROM emp GROUP BY dept_id");
        SHAPES.put("group_by_ordinal_expression", "SELECT upper(name) AS u, count(*) AS n FROM emp GROUP BY 1");
        SHAPES.put("count_distinct_filter", "SELECT dept_id, count(DISTINCT bonus) AS nb,"
                + " count(*) FILTER (WHERE salary > 100) AS rich FROM emp GROUP BY dept_id");
        SHAPES.put("left_join_group", "SELECT d.id, d.name, count(e.id) AS n, coalesce(sum(e.salary), 0) AS total,"
                + " coalesce(avg(e.salary), 0) AS mean FROM dept d LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.id, d.name");
        SHAPES.put("right_join_group_by_null_side", "SELECT e.dept_id, count(*) AS n, count(d.id) AS matched"
                + " FROM dept d RIGHT JOIN emp e ON e.dept_id = d.id GROUP BY e.dept_id");
        SHAPES.put("left_join_distinct", "SELECT DISTINCT d.region, e.bonus FROM dept d LEFT JOIN emp e ON e.dept_id = d.id");
        SHAPES.put("left_then_inner_join_group", "SELECT d.region, count(m.id) AS managers, max(m.salary) AS top"
                + " FROM dept d LEFT JOIN emp m ON m.id = d.manager_id JOIN dept d2 ON d2.id = d.id"
                + " WHERE d2.name <> 'x' GROUP BY d.region");
        SHAPES.put("casts_coalesce_ilike", "SELECT id, coalesce(bonus, 0)::numeric(12,2) AS b FROM emp WHERE name ILIKE 'a%'");
    }

    private static PgTrickleEngine engine;
    private static StreamTables api;

    @BeforeAll
    static void setUp(TestDatabase db) {
        db.execute("CREATE TABLE dept (id int PRIMARY KEY, name text NOT NULL, region text, manager_id int)",
                "CREATE TABLE emp (id int PRIMARY KEY, dept_id int, name text NOT NULL, salary numeric(10,2) NOT NULL,"
                        + " bonus int)");
        engine = EngineFixture.open(db);
        api = engine.streamTables();
    }

    @AfterAll
    static void tearDown() {
        engine.close();
    }

    @Test
    void everyShapeStaysEqualToItsQueryUnderRandomChanges(TestDatabase db) {
        long seed = Long.getLong("pgtrickle.seed", 20261121L);
        int cycles = Integer.getInteger("pgtrickle.cycles", 12);
        Random random = new Random(seed);
        seedData(db, random);
        for (var shape : SHAPES.entrySet()) {
            api.create(StreamTableSpec.parse(shape.getKey(), shape.getValue(), "calculated", "DIFFERENTIAL"));
            assertThat(api.require(QualifiedName.parse(shape.getKey())).effectiveMode()).isEqualTo(RefreshMode.DIFFERENTIAL);
        }
        for (int cycle = 1; cycle <= cycles; cycle++) {
            List<String> batch = randomBatch(random, 1 + random.nextInt(12));
            db.execute(batch.toArray(String[]::new));
            for (var shape : SHAPES.entrySet()) {
                api.refresh(shape.getKey());
                assertThat(db.multisetDifference(columnsOf(db, shape.getKey()), shape.getValue()))
                        .as("seed %d, cycle %d, shape %s after %s", seed, cycle, shape.getKey(), batch)
                        .isEmpty();
                assertThat(db.value("SELECT action FROM pgtrickle.pgt_refresh_history WHERE pgt_name = ?"
                        + " ORDER BY refresh_id DESC LIMIT 1", shape.getKey()))
                        .as("shape %s refreshed differentially", shape.getKey()).isEqualTo("DIFFERENTIAL");
            }
        }
    }

    private static String columnsOf(TestDatabase db, String table) {
        List<String> cols = db.rows("SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = ?::regclass"
                + " AND attnum > 0 AND NOT attisdropped AND attname NOT LIKE '\\_\\_pgt%' ORDER BY attnum", table)
                .stream().map(r -> (String) r.get(0)).toList();
        return "SELECT " + String.join(", ", cols) + " FROM " + table;
    }

    private static void seedData(TestDatabase db, Random random) {
        List<String> sql = new ArrayList<>();
        for (int d = 1; d <= 5; d++) {
            sql.add("INSERT INTO dept VALUES (" + d + ", 'dept" + d + "', '" + region(random) + "', " + (1 + random.nextInt(30)) + ")");
        }
        for (int e = 1; e <= 30; e++) {
            sql.add(insertEmp(random, e));
        }
        db.execute(sql.toArray(String[]::new));
    }

    private static String region(Random random) {
        return List.of("north", "south", "west").get(random.nextInt(3));
    }

    private static String insertEmp(Random random, int id) {
        String[] names = {"ann", "bob", "Al", "cy", "ann", "dee"};
        return "INSERT INTO emp VALUES (" + id + ", " + (random.nextInt(8) == 0 ? "NULL" : 1 + random.nextInt(6)) + ", '"
                + names[random.nextInt(names.length)] + "', " + random.nextInt(200) + "." + random.nextInt(100) + ", "
                + (random.nextInt(3) == 0 ? "NULL" : random.nextInt(4)) + ") ON CONFLICT (id) DO NOTHING";
    }

    /** Inserts, updates (also of keys and of the current extremum) and deletes, with NULLs and duplicates. */
    private static List<String> randomBatch(Random random, int size) {
        List<String> batch = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            int id = 1 + random.nextInt(40);
            switch (random.nextInt(11)) {
                case 0, 1, 2 -> batch.add(insertEmp(random, id));
                case 3 -> batch.add("UPDATE emp SET salary = salary + " + (random.nextInt(50) - 25) + " WHERE id = " + id);
                case 4 -> batch.add("UPDATE emp SET dept_id = " + (1 + random.nextInt(6)) + ", bonus = "
                        + (random.nextBoolean() ? "NULL" : random.nextInt(4)) + " WHERE id = " + id);
                case 5 -> batch.add("UPDATE emp SET id = " + (100 + random.nextInt(1000)) + " WHERE id = " + id
                        + " AND NOT EXISTS (SELECT 1 FROM emp WHERE id >= 100 AND id = " + id + " + 0)");
                case 6 -> batch.add("DELETE FROM emp WHERE id = " + id);
                case 7 -> batch.add("DELETE FROM emp WHERE salary = (SELECT max(salary) FROM emp)");
                case 8 -> batch.add("UPDATE dept SET region = '" + region(random) + "', manager_id = "
                        + (1 + random.nextInt(40)) + " WHERE id = " + (1 + random.nextInt(6)));
                case 9 -> batch.add("INSERT INTO dept VALUES (" + (1 + random.nextInt(7)) + ", 'new', '" + region(random)
                        + "', NULL) ON CONFLICT (id) DO UPDATE SET name = excluded.name || dept.id");
                default -> batch.add("DELETE FROM dept WHERE id = " + (1 + random.nextInt(7)));
            }
        }
        return batch;
    }
}
