package io.pgtrickle.core.ivm.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Employees and departments read through views: plain, filtered with column aliases, joined,
 * aggregated, nested (a view over two views), and a view with a top-k that has no delta rule.
 * Shapes project, filter, join and aggregate over the views, and join views to tables.
 */
public final class ViewWorkload implements Workload {
    private static final int EMP_KEYS = 40;
    private static final int DEPT_KEYS = 6;
    private static final String[] NAMES = {"ann", "bob", "cy", "dee", "ann"};
    private static final String[] REGIONS = {"north", "south", "west"};

    private static final List<Shape> SHAPES = List.of(
            Shape.of("view_projection", "SELECT id, name, salary * 2 AS doubled FROM vw_staff"),
            Shape.of("view_filter_aliases", "SELECT emp_id, pay FROM vw_paid WHERE pay < 150"),
            Shape.of("view_join", "SELECT id, dept, region FROM vw_emp_dept"),
            Shape.of("view_aggregate_over_view", "SELECT region, count(*) AS n, sum(salary) AS total"
                    + " FROM vw_emp_dept GROUP BY region"),
            Shape.of("view_aggregated", "SELECT dept_id, n, total, top FROM vw_dept_pay WHERE n > 1"),
            Shape.of("view_nested", "SELECT emp_id, pay, dept FROM vw_paid_north"),
            Shape.of("view_joined_to_table", "SELECT p.emp_name, d.name AS dept FROM vw_paid p"
                    + " JOIN vw_emp e ON e.id = p.emp_id LEFT JOIN vw_dept d ON d.id = e.dept_id"),
            Shape.of("view_aggregate_joined_to_table", "SELECT d.name, dp.n, dp.top FROM vw_dept d"
                    + " JOIN vw_dept_pay dp ON dp.dept_id = d.id"),
            Shape.of("view_in_exists", "SELECT d.id, d.name FROM vw_dept d WHERE EXISTS (SELECT 1 FROM vw_paid p"
                    + " JOIN vw_emp e ON e.id = p.emp_id WHERE e.dept_id = d.id)"),
            // A view's LIMIT has no delta rule: AUTO must read it whole (its flag lives here, as the
            // shape is not in the workloads ExpectedModes is checked against).
            new Shape("view_top_k", "SELECT id, salary FROM vw_top", false));

    @Override
    public String name() {
        return "views";
    }

    @Override
    public List<String> schema() {
        return List.of("CREATE TABLE vw_dept (id int PRIMARY KEY, name text NOT NULL, region text)",
                "CREATE TABLE vw_emp (id int PRIMARY KEY, dept_id int, name text NOT NULL, salary numeric(10,2) NOT NULL,"
                        + " bonus int)",
                "CREATE VIEW vw_staff AS SELECT id, dept_id, name, salary, bonus FROM vw_emp",
                "CREATE VIEW vw_paid (emp_id, emp_name, pay) AS SELECT id, name, salary + coalesce(bonus, 0)"
                        + " FROM vw_emp WHERE salary > 40",
                "CREATE VIEW vw_emp_dept AS SELECT e.id, e.name, e.salary, d.name AS dept, d.region"
                        + " FROM vw_emp e JOIN vw_dept d ON d.id = e.dept_id",
                "CREATE VIEW vw_dept_pay AS SELECT dept_id, count(*) AS n, sum(salary) AS total, max(salary) AS top"
                        + " FROM vw_emp GROUP BY dept_id",
                "CREATE VIEW vw_paid_north AS SELECT p.emp_id, p.pay, ed.dept FROM vw_paid p"
                        + " JOIN vw_emp_dept ed ON ed.id = p.emp_id WHERE ed.region = 'north'",
                "CREATE VIEW vw_top AS SELECT id, salary FROM vw_emp ORDER BY salary DESC, id LIMIT 3");
    }

    @Override
    public List<String> tables() {
        return List.of("vw_dept", "vw_emp");
    }

    @Override
    public List<String> seed(Random random) {
        List<String> sql = new ArrayList<>();
        for (int d = 1; d <= 4; d++) {
            sql.add(upsertDept(random, d));
        }
        for (int e = 1; e <= 20; e++) {
            sql.add(insertEmp(random, e));
        }
        return sql;
    }

    @Override
    public Batch randomBatch(Random random) {
        return Batch.random(random, 8, ViewWorkload::randomChange);
    }

    @Override
    public List<Shape> shapes() {
        return SHAPES;
    }

    private static String randomChange(Random random) {
        int id = 1 + random.nextInt(EMP_KEYS);
        int dept = 1 + random.nextInt(DEPT_KEYS);
        return switch (random.nextInt(12)) {
            case 0, 1, 2 -> insertEmp(random, id);
            case 3 -> "UPDATE vw_emp SET salary = salary + " + (random.nextInt(60) - 30) + " WHERE id = " + id;
            case 4 -> "UPDATE vw_emp SET dept_id = " + deptOf(random) + ", bonus = " + bonus(random) + " WHERE id = " + id;
            case 5 -> {
                int to = 1 + random.nextInt(EMP_KEYS);
                yield "UPDATE vw_emp SET id = " + to + " WHERE id = " + id
                        + " AND NOT EXISTS (SELECT 1 FROM vw_emp WHERE id = " + to + ")";
            }
            case 6 -> "DELETE FROM vw_emp WHERE id = " + id;
            case 7 -> "DELETE FROM vw_emp WHERE salary = (SELECT max(salary) FROM vw_emp)";
            case 8 -> "UPDATE vw_dept SET region = " + region(random) + " WHERE id = " + dept;
            case 9 -> upsertDept(random, dept);
            case 10 -> "DELETE FROM vw_dept WHERE id = " + dept;
            default -> "UPDATE vw_emp SET dept_id = 1 WHERE id % 5 = " + random.nextInt(5);
        };
    }

    private static String insertEmp(Random random, int id) {
        return "INSERT INTO vw_emp VALUES (" + id + ", " + deptOf(random) + ", '" + NAMES[random.nextInt(NAMES.length)]
                + "', " + salary(random) + ", " + bonus(random) + ") ON CONFLICT (id) DO NOTHING";
    }

    private static String upsertDept(Random random, int id) {
        return "INSERT INTO vw_dept VALUES (" + id + ", 'dept" + id + "', " + region(random) + ")"
                + " ON CONFLICT (id) DO UPDATE SET name = excluded.name" + (random.nextBoolean() ? " || 'x'" : "")
                + ", region = excluded.region";
    }

    private static String deptOf(Random random) {
        int r = random.nextInt(8);
        return r == 0 ? "NULL" : String.valueOf(1 + random.nextInt(DEPT_KEYS));
    }

    /** Often a repeated value, so extrema and the top-k have ties. */
    private static String salary(Random random) {
        return random.nextInt(3) == 0 ? String.valueOf(50 * (1 + random.nextInt(3)))
                : random.nextInt(200) + "." + random.nextInt(100);
    }

    private static String bonus(Random random) {
        return random.nextInt(3) == 0 ? "NULL" : String.valueOf(random.nextInt(20));
    }

    private static String region(Random random) {
        return random.nextInt(6) == 0 ? "NULL" : "'" + REGIONS[random.nextInt(REGIONS.length)] + "'";
    }
}
