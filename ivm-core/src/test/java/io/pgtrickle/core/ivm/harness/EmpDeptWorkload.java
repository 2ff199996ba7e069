package io.pgtrickle.core.ivm.harness;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Employees and departments (with a department tree, as in the reference's getting-started
 * example), plus {@code events}, a table without a primary key whose rows repeat. Shapes cover
 * every construct the issue lists; {@link ExpectedModes} says which are differential today.
 */
public final class EmpDeptWorkload implements Workload {
    private static final int EMP_KEYS = 60;
    private static final int DEPT_KEYS = 7;
    private static final String[] NAMES = {"ann", "bob", "Al", "cy", "ann", "dee"};
    private static final String[] REGIONS = {"north", "south", "west"};
    private static final String[] KINDS = {"'click'", "'view'", "'buy'", "NULL"};

    private static final List<Shape> SHAPES = List.of(
            // scan, filter, projection with any expressions
            Shape.of("select_star", "SELECT * FROM dept"),
            Shape.of("filter_project", "SELECT id, name, salary * 2 AS double_salary FROM emp WHERE salary > 50"),
            Shape.of("keyless_duplicates", "SELECT dept_id, bonus FROM emp"),
            Shape.of("casts_coalesce_ilike", "SELECT id, coalesce(bonus, 0)::numeric(12,2) AS b FROM emp WHERE name ILIKE 'a%'"),
            Shape.of("projection_expressions", "SELECT id, CASE WHEN salary > 100 THEN 'high' WHEN salary > 50 THEN 'mid'"
                    + " ELSE 'low' END AS band, name || '@' || coalesce(dept_id::text, '?') AS tag, nullif(bonus, 0) AS nz,"
                    + " round(salary / 3, 2) AS third, upper(substr(name, 1, 2)) AS initials, -salary % 7 AS r,"
                    + " abs(bonus - 2) AS dist FROM emp WHERE bonus IS NULL OR bonus BETWEEN 1 AND 3"),
            Shape.of("projection_greatest_least", "SELECT id, greatest(bonus, dept_id) AS g, least(salary, 100) AS capped"
                    + " FROM emp"),
            // sources without a primary key, duplicate rows allowed
            Shape.of("keyless_scan", "SELECT kind, amount FROM events"),
            Shape.of("keyless_filter_project", "SELECT kind, amount * 2 AS doubled FROM events WHERE amount IS NULL OR amount > 2"),
            Shape.of("keyless_group", "SELECT kind, count(*) AS n, sum(amount) AS total, count(amount) AS non_null"
                    + " FROM events GROUP BY kind"),
            Shape.of("keyless_distinct", "SELECT DISTINCT kind, amount FROM events"),
            Shape.of("keyless_join", "SELECT ev.kind, d.name FROM events ev JOIN dept d ON ev.amount = d.id"),
            Shape.of("keyless_min_max", "SELECT kind, min(amount) AS lo, max(amount) AS hi FROM events GROUP BY kind"),
            // inner joins of any width, self-joins, non-equi joins
            Shape.of("inner_join", "SELECT e.name, d.name AS dept FROM emp e JOIN dept d ON e.dept_id = d.id"),
            Shape.of("comma_join_filter", "SELECT e.id, d.region FROM emp e, dept d WHERE e.dept_id = d.id AND d.region <> 'west'"),
            Shape.of("self_join", "SELECT a.id AS a_id, b.id AS b_id FROM emp a JOIN emp b ON a.dept_id = b.dept_id AND a.id < b.id"),
            Shape.of("non_equi_join", "SELECT e.id, d.id AS did FROM emp e JOIN dept d ON e.salary > d.id * 20"),
            Shape.of("three_way_join", "SELECT e.id, d.name, m.name AS manager FROM emp e JOIN dept d ON e.dept_id = d.id"
                    + " JOIN emp m ON m.id = d.manager_id"),
            Shape.of("four_way_join_non_equi", "SELECT a.id, b.id AS richer, d.name AS dept, m.name AS manager"
                    + " FROM emp a JOIN emp b ON a.dept_id = b.dept_id AND a.salary < b.salary"
                    + " JOIN dept d ON d.id = a.dept_id JOIN emp m ON m.id = d.manager_id"),
            // GROUP BY with COUNT, COUNT(DISTINCT), SUM, AVG, FILTER, HAVING; MIN/MAX; other aggregates
            Shape.of("group_count_sum_avg", "SELECT dept_id, count(*) AS n, sum(salary) AS total, avg(salary) AS mean"
                    + " FROM emp GROUP BY dept_id"),
            Shape.of("join_group_having", "SELECT d.region, count(*) AS n FROM emp e JOIN dept d ON e.dept_id = d.id"
                    + " GROUP BY d.region HAVING count(*) > 1"),
            Shape.of("count_distinct_filter", "SELECT dept_id, count(DISTINCT bonus) AS nb,"
                    + " count(*) FILTER (WHERE salary > 100) AS rich FROM emp GROUP BY dept_id"),
            Shape.of("sum_avg_filter_having", "SELECT dept_id, sum(salary) FILTER (WHERE bonus IS NOT NULL) AS with_bonus,"
                    + " avg(bonus) AS mean_bonus FROM emp GROUP BY dept_id HAVING sum(salary) > 100"),
            Shape.of("min_max", "SELECT dept_id, min(salary) AS lo, max(salary) AS hi FROM emp GROUP BY dept_id"),
            Shape.of("max_having_min", "SELECT dept_id, max(salary) AS top FROM emp GROUP BY dept_id HAVING min(salary) < 100"),
            Shape.of("global_aggregate", "SELECT count(*) AS n, sum(bonus) AS b, max(name) AS last_name FROM emp"),
            Shape.of("global_min_max_of_emptying_input", "SELECT count(*) AS n, min(salary) AS lo, max(salary) AS hi"
                    + " FROM emp WHERE bonus = 3"),
            Shape.of("string_agg", "SELECT dept_id, string_agg(name, ',' ORDER BY name) AS names FROM emp GROUP BY dept_id"),
            Shape.of("other_aggregates", "SELECT dept_id, bool_and(salary > 20) AS all_paid, array_agg(id ORDER BY id) AS ids,"
                    + " stddev_samp(salary) AS sd, var_pop(salary) AS vp, bit_or(bonus) AS bits FROM emp GROUP BY dept_id"),
            Shape.of("ordered_set_aggregates", "SELECT dept_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY salary) AS median,"
                    + " mode() WITHIN GROUP (ORDER BY name) AS common, percentile_disc(0.9) WITHIN GROUP (ORDER BY salary DESC)"
                    + " AS p90 FROM emp GROUP BY dept_id"),
            Shape.of("group_by_ordinal_expression", "SELECT upper(name) AS u, count(*) AS n FROM emp GROUP BY 1"),
            // DISTINCT
            // GROUPING SETS / ROLLUP / CUBE: one GROUP BY per set, in a UNION ALL
            Shape.of("rollup_join_sum_count", "SELECT d.region, e.dept_id, count(*) AS n, sum(e.salary) AS total"
                    + " FROM emp e JOIN dept d ON e.dept_id = d.id GROUP BY ROLLUP (d.region, e.dept_id)"),
            Shape.of("cube_avg", "SELECT dept_id, bonus, avg(salary) AS mean, count(*) AS n FROM emp GROUP BY CUBE (dept_id, bonus)"),
            Shape.of("grouping_sets_empty_grouping", "SELECT kind, amount, GROUPING(kind, amount) AS g, count(*) AS n,"
                    + " sum(amount) AS total FROM events GROUP BY GROUPING SETS ((kind), (kind, amount), (kind), ())"),
            Shape.of("rollup_mixed_having_max", "SELECT dept_id, coalesce(bonus, -1) AS b, sum(bonus) AS sb, max(salary) AS top,"
                    + " CASE WHEN GROUPING(bonus) = 1 THEN 'all' ELSE 'one' END AS level FROM emp"
                    + " GROUP BY dept_id, ROLLUP (bonus) HAVING count(*) > 1 OR GROUPING(bonus) = 1"),
            Shape.of("distinct_rows", "SELECT DISTINCT dept_id, bonus FROM emp"),
            Shape.of("distinct_join", "SELECT DISTINCT d.region, e.name FROM emp e JOIN dept d ON e.dept_id = d.id"),
            // LEFT / RIGHT / FULL outer joins
            Shape.of("left_join_group", "SELECT d.id, d.name, count(e.id) AS n, coalesce(sum(e.salary), 0) AS total,"
                    + " coalesce(avg(e.salary), 0) AS mean FROM dept d LEFT JOIN emp e ON e.dept_id = d.id GROUP BY d.id, d.name"),
            Shape.of("right_join_group_by_null_side", "SELECT e.dept_id, count(*) AS n, count(d.id) AS matched"
                    + " FROM dept d RIGHT JOIN emp e ON e.dept_id = d.id GROUP BY e.dept_id"),
            Shape.of("left_join_distinct", "SELECT DISTINCT d.region, e.bonus FROM dept d LEFT JOIN emp e ON e.dept_id = d.id"),
            Shape.of("left_then_inner_join_group", "SELECT d.region, count(m.id) AS managers, max(m.salary) AS top"
                    + " FROM dept d LEFT JOIN emp m ON m.id = d.manager_id JOIN dept d2 ON d2.id = d.id"
                    + " WHERE d2.name <> 'x' GROUP BY d.region"),
            Shape.of("left_join_rows", "SELECT e.id, e.name, d.name AS dept FROM emp e LEFT JOIN dept d ON e.dept_id = d.id"),
            Shape.of("right_join_rows", "SELECT d.id AS did, e.id AS eid, e.salary FROM emp e RIGHT JOIN dept d"
                    + " ON e.dept_id = d.id AND e.salary > 50"),
            Shape.of("full_join_rows", "SELECT e.id AS eid, d.id AS did, d.region FROM emp e FULL JOIN dept d ON e.dept_id = d.id"),
            Shape.of("full_join_group", "SELECT d.region, count(e.id) AS n, count(*) AS total FROM emp e"
                    + " FULL JOIN dept d ON e.dept_id = d.id GROUP BY d.region"),
            Shape.of("left_join_keyless_null_keys", "SELECT ev.kind, ev.amount, d.name FROM events ev"
                    + " LEFT JOIN dept d ON d.id = ev.amount"),
            // UNION ALL, UNION, INTERSECT, EXCEPT and their ALL forms
            Shape.of("union_all", "SELECT id, name FROM emp WHERE salary > 100 UNION ALL SELECT id, name FROM dept"),
            Shape.of("union_all_keyless", "SELECT kind AS k, amount AS v FROM events UNION ALL SELECT name, bonus FROM emp"),
            Shape.of("union_distinct", "SELECT dept_id AS v FROM emp UNION SELECT id FROM dept"),
            Shape.of("intersect_distinct", "SELECT dept_id AS v FROM emp INTERSECT SELECT id FROM dept"),
            Shape.of("intersect_all", "SELECT bonus AS v FROM emp INTERSECT ALL SELECT amount FROM events"),
            Shape.of("except_distinct", "SELECT id AS v FROM dept EXCEPT SELECT dept_id FROM emp"),
            Shape.of("except_all", "SELECT amount AS v FROM events EXCEPT ALL SELECT bonus FROM emp"),
            // subqueries in FROM, non-recursive CTEs
            Shape.of("subquery_in_from", "SELECT s.dept_id, s.total * 2 AS doubled FROM (SELECT dept_id, sum(salary) AS total"
                    + " FROM emp GROUP BY dept_id) s WHERE s.total > 50"),
            Shape.of("subquery_join_in_from", "SELECT d.name, s.n FROM dept d JOIN (SELECT dept_id, count(*) AS n FROM emp"
                    + " GROUP BY dept_id) s ON s.dept_id = d.id"),
            Shape.of("cte_join", "WITH rich AS (SELECT id, dept_id FROM emp WHERE salary > 80)"
                    + " SELECT r.id, d.region FROM rich r JOIN dept d ON d.id = r.dept_id"),
            Shape.of("cte_used_twice", "WITH sizes AS (SELECT dept_id, count(*) AS n FROM emp GROUP BY dept_id)"
                    + " SELECT a.dept_id, a.n, b.dept_id AS bigger FROM sizes a JOIN sizes b ON a.n < b.n"),
            // EXISTS / NOT EXISTS / IN / NOT IN / scalar subqueries
            Shape.of("exists_where", "SELECT d.id, d.name FROM dept d WHERE EXISTS (SELECT 1 FROM emp e"
                    + " WHERE e.dept_id = d.id AND e.salary > 100)"),
            Shape.of("not_exists_where", "SELECT d.id FROM dept d WHERE NOT EXISTS (SELECT 1 FROM emp e WHERE e.dept_id = d.id)"),
            Shape.of("in_subquery", "SELECT id, name FROM emp WHERE dept_id IN (SELECT id FROM dept WHERE region = 'north')"),
            Shape.of("not_in_subquery_with_nulls", "SELECT id FROM dept WHERE id NOT IN (SELECT dept_id FROM emp WHERE bonus = 1)"),
            // IN over GROUP BY … HAVING on the group key (the delta terms correlate it on the key, see GroupKeyPushdown):
            // NULL keys on both sides (emp.dept_id), deletes and updates that flip HAVING, an operand whose name the
            // subquery's table also has (id), the IN under OR beside another subquery, a key among several, a
            // grouped outer query (as TPC-H q18), a keyless table, and the NOT IN that must stay as written
            Shape.of("in_group_key_having", "SELECT e.id, e.salary FROM emp e WHERE e.dept_id IN (SELECT dept_id FROM emp"
                    + " GROUP BY dept_id HAVING sum(salary) > 300)"),
            Shape.of("in_group_key_name_shared", "SELECT id, name FROM dept WHERE id IN (SELECT dept_id FROM emp"
                    + " GROUP BY dept_id HAVING count(*) > 2)"),
            Shape.of("in_group_key_or_exists", "SELECT e.id FROM emp e WHERE (e.dept_id IN (SELECT dept_id FROM emp"
                    + " WHERE bonus IS NOT NULL GROUP BY dept_id HAVING count(*) >= 2) OR e.bonus IS NULL)"
                    + " AND EXISTS (SELECT 1 FROM dept d WHERE d.id = e.dept_id AND d.region <> 'west')"),
            Shape.of("in_group_key_among_keys_join", "SELECT e.id, d.region FROM emp e JOIN dept d ON e.dept_id = d.id"
                    + " WHERE e.dept_id IN (SELECT dept_id FROM emp GROUP BY bonus, dept_id HAVING count(*) >= 3)"),
            Shape.of("in_group_key_grouped_outer", "SELECT e.dept_id, count(*) AS n, sum(e.salary) AS total FROM emp e"
                    + " WHERE e.dept_id IN (SELECT dept_id FROM emp GROUP BY dept_id HAVING max(salary) > 150)"
                    + " GROUP BY e.dept_id"),
            Shape.of("in_group_key_keyless", "SELECT kind, amount FROM events WHERE amount IN (SELECT amount FROM events"
                    + " GROUP BY amount HAVING count(*) > 2)"),
            Shape.of("not_in_group_key_having", "SELECT id FROM dept WHERE id NOT IN (SELECT dept_id FROM emp"
                    + " GROUP BY dept_id HAVING count(*) > 3)"),
            // EXISTS / NOT EXISTS correlated through a primary key (the flip term keeps them per row, see PerRowExists)
            Shape.of("exists_on_key", "SELECT e.id, e.name FROM emp e WHERE EXISTS (SELECT 1 FROM dept d"
                    + " WHERE d.id = e.dept_id AND d.region = 'north')"),
            Shape.of("not_exists_on_key_nullable", "SELECT d.id FROM dept d WHERE NOT EXISTS (SELECT 1 FROM emp e"
                    + " WHERE e.id = d.manager_id AND e.salary > 60)"),
            Shape.of("scalar_subquery_where", "SELECT id, salary FROM emp WHERE salary > (SELECT avg(salary) FROM emp)"),
            Shape.of("scalar_subquery_select", "SELECT d.id, (SELECT max(e.salary) FROM emp e WHERE e.dept_id = d.id) AS top"
                    + " FROM dept d"),
            // beyond the list: window functions, top-k, syntax the parser does not know yet
            Shape.of("window_rank", "SELECT id, dept_id, rank() OVER (PARTITION BY dept_id ORDER BY salary DESC) AS r FROM emp"),
            Shape.of("top_k", "SELECT id, salary FROM emp ORDER BY salary DESC, id LIMIT 3"),
            Shape.of("top_k_offset_nulls_first", "SELECT id, bonus, name FROM emp ORDER BY bonus NULLS FIRST, id LIMIT 5 OFFSET 2"),
            Shape.of("top_k_desc_nulls_last", "SELECT id, bonus FROM emp ORDER BY bonus DESC NULLS LAST, id LIMIT 6"),
            Shape.of("top_k_hidden_sort_key", "SELECT id, name FROM emp ORDER BY salary DESC, id LIMIT 4"),
            Shape.of("top_k_grouped", "SELECT dept_id, count(*) AS n FROM emp GROUP BY dept_id ORDER BY n DESC, dept_id"
                    + " NULLS FIRST LIMIT 3"),
            Shape.of("top_k_grouped_hidden_aggregate", "SELECT dept_id FROM emp GROUP BY dept_id"
                    + " ORDER BY sum(salary) DESC NULLS LAST, dept_id LIMIT 2 OFFSET 1"),
            Shape.of("top_k_union", "SELECT id FROM emp UNION SELECT id FROM dept ORDER BY 1 DESC LIMIT 5"),
            Shape.of("top_k_join_positional", "SELECT e.id, d.name AS dept, e.salary FROM emp e JOIN dept d ON e.dept_id = d.id"
                    + " WHERE e.salary > 10 ORDER BY 3, 1 DESC LIMIT 4"),
            // set-returning functions in FROM, here so that the FULL, AUTO, mode-switch and concurrent runs have them too
            Shape.of("srf_unnest_ordinality", "SELECT e.id, t.x, t.n FROM emp e CROSS JOIN LATERAL"
                    + " unnest(ARRAY[e.salary, e.bonus]) WITH ORDINALITY AS t(x, n)"),
            Shape.of("srf_series_group", "SELECT d.region, count(*) AS n FROM dept d, generate_series(1, d.id % 3) AS g(i)"
                    + " GROUP BY d.region"),
            Shape.of("distinct_on", "SELECT DISTINCT ON (dept_id) dept_id, id, salary FROM emp ORDER BY dept_id, salary DESC, id"),
            // the reference's getting-started examples, on this schema; later ones read earlier stream tables
            Shape.of("ref_department_tree", "WITH RECURSIVE tree AS (SELECT id, name, parent_id, name AS path, 0 AS depth"
                    + " FROM dept WHERE parent_id IS NULL UNION ALL SELECT d.id, d.name, d.parent_id,"
                    + " tree.path || ' > ' || d.name AS path, tree.depth + 1 FROM dept d JOIN tree ON d.parent_id = tree.id)"
                    + " SELECT id, name, parent_id, path, depth FROM tree"),
            // more recursive shapes: a set (UNION) of ancestor pairs, a guarded depth with reordered outputs, and a
            // base term over another table than the recursive term's
            Shape.of("recursive_ancestors_union", "WITH RECURSIVE anc(id, ancestor) AS (SELECT id, parent_id FROM dept"
                    + " WHERE parent_id IS NOT NULL UNION SELECT a.id, d.parent_id FROM anc a JOIN dept d ON d.id = a.ancestor"
                    + " WHERE d.parent_id IS NOT NULL) SELECT id, ancestor FROM anc"),
            Shape.of("recursive_depth_guard", "WITH RECURSIVE chain(id, region, depth) AS (SELECT id, region, 0 FROM dept"
                    + " WHERE region = 'north' UNION ALL SELECT d.id, c.region, c.depth + 1 FROM chain c JOIN dept d"
                    + " ON d.parent_id = c.id WHERE c.depth < 2) SELECT depth, id, region FROM chain"),
            Shape.of("recursive_emp_departments", "WITH RECURSIVE up(emp_id, dept) AS (SELECT e.id, e.dept_id FROM emp e"
                    + " WHERE e.dept_id IS NOT NULL UNION ALL SELECT u.emp_id, d.parent_id FROM up u JOIN dept d"
                    + " ON d.id = u.dept WHERE d.parent_id IS NOT NULL) SELECT * FROM up"),
            Shape.of("ref_department_stats", "SELECT t.id AS department_id, t.name AS department_name, t.path AS full_path,"
                    + " t.depth, COUNT(e.id) AS headcount, COALESCE(SUM(e.salary), 0) AS total_salary,"
                    + " COALESCE(AVG(e.salary), 0) AS avg_salary FROM ref_department_tree t"
                    + " LEFT JOIN emp e ON e.dept_id = t.id GROUP BY t.id, t.name, t.path, t.depth"),
            Shape.of("ref_department_report", "SELECT split_part(full_path, ' > ', 2) AS division,"
                    + " SUM(headcount) AS total_headcount, SUM(total_salary) AS total_payroll FROM ref_department_stats"
                    + " WHERE depth >= 1 GROUP BY 1"),
            Shape.of("ref_employee_salaries", "SELECT e.id, e.name, d.name AS department, e.salary FROM emp e"
                    + " JOIN dept d ON e.dept_id = d.id"),
            Shape.of("ref_salaries_by_department", "SELECT department, COUNT(*) AS headcount, AVG(salary) AS avg_salary"
                    + " FROM ref_employee_salaries GROUP BY department"));

    @Override
    public String name() {
        return "emp-dept";
    }

    @Override
    public List<String> schema() {
        return List.of("CREATE TABLE dept (id int PRIMARY KEY, name text NOT NULL, region text, manager_id int, parent_id int)",
                "CREATE TABLE emp (id int PRIMARY KEY, dept_id int, name text NOT NULL, salary numeric(10,2) NOT NULL,"
                        + " bonus int)",
                // No primary key: rows repeat, and only their content identifies them.
                "CREATE TABLE events (kind text, amount int)");
    }

    @Override
    public List<String> tables() {
        return List.of("dept", "emp", "events");
    }

    @Override
    public List<String> seed(Random random) {
        List<String> sql = new ArrayList<>();
        for (int d = 1; d <= 5; d++) {
            sql.add(upsertDept(random, d));
        }
        for (int e = 1; e <= 30; e++) {
            sql.add(insertEmp(random, e));
        }
        for (int i = 0; i < 20; i++) {
            sql.add(insertEvents(random));
        }
        return sql;
    }

    @Override
    public Batch randomBatch(Random random) {
        return Batch.random(random, 12, EmpDeptWorkload::randomChange);
    }

    @Override
    public List<Shape> shapes() {
        return SHAPES;
    }

    /** Inserts, updates (also of keys and of the current extremum) and deletes, with NULLs and duplicates. */
    private static String randomChange(Random random) {
        int id = 1 + random.nextInt(EMP_KEYS);
        int dept = 1 + random.nextInt(DEPT_KEYS);
        return switch (random.nextInt(20)) {
            case 0, 1, 2 -> insertEmp(random, id);
            case 3 -> "UPDATE emp SET salary = salary + " + (random.nextInt(50) - 25) + " WHERE id = " + id;
            case 4 -> "UPDATE emp SET dept_id = " + deptOf(random) + ", bonus = " + bonus(random) + " WHERE id = " + id;
            case 5 -> {
                // A key-changing update; the guard keeps it from colliding with an existing key.
                int to = 1 + random.nextInt(EMP_KEYS);
                yield "UPDATE emp SET id = " + to + " WHERE id = " + id + " AND NOT EXISTS (SELECT 1 FROM emp WHERE id = " + to + ")";
            }
            case 6 -> "DELETE FROM emp WHERE id = " + id;
            case 7 -> "DELETE FROM emp WHERE salary = (SELECT " + (random.nextBoolean() ? "max" : "min") + "(salary) FROM emp)";
            case 8 -> "DELETE FROM emp WHERE id IN (SELECT id FROM emp WHERE dept_id = " + dept
                    + " ORDER BY salary DESC, id LIMIT 1)";
            case 9 -> "UPDATE emp SET salary = salary - 150 WHERE salary = (SELECT max(salary) FROM emp)";
            case 10 -> random.nextInt(3) == 0 ? "DELETE FROM emp WHERE dept_id = " + dept // empties a group
                    : "UPDATE emp SET dept_id = 1 WHERE id % 7 = " + random.nextInt(7); // skews toward one group
            case 11 -> "UPDATE dept SET region = " + region(random) + ", manager_id = " + (1 + random.nextInt(EMP_KEYS))
                    + " WHERE id = " + dept;
            case 12 -> "UPDATE dept SET parent_id = " + parentOf(random, dept) + ", name = 'd" + random.nextInt(4)
                    + "' WHERE id = " + dept;
            case 13 -> upsertDept(random, dept);
            case 14 -> "DELETE FROM dept WHERE id = " + dept;
            case 15, 16 -> insertEvents(random);
            case 17 -> "DELETE FROM events WHERE ctid IN (SELECT ctid FROM events WHERE kind IS NOT DISTINCT FROM "
                    + KINDS[random.nextInt(KINDS.length)] + " LIMIT " + (1 + random.nextInt(2)) + ")"; // one of the duplicates
            case 18 -> "UPDATE events SET amount = " + amount(random) + " WHERE ctid IN (SELECT ctid FROM events"
                    + " WHERE amount IS NOT DISTINCT FROM " + amount(random) + " LIMIT 1)";
            default -> "DELETE FROM events WHERE kind IS NOT DISTINCT FROM " + KINDS[random.nextInt(KINDS.length)];
        };
    }

    private static String insertEmp(Random random, int id) {
        return "INSERT INTO emp VALUES (" + id + ", " + deptOf(random) + ", '" + NAMES[random.nextInt(NAMES.length)] + "', "
                + salary(random) + ", " + bonus(random) + ") ON CONFLICT (id) DO NOTHING";
    }

    /** Departments form a tree: a parent always has a smaller id, so the recursive example terminates. */
    private static String upsertDept(Random random, int id) {
        return "INSERT INTO dept VALUES (" + id + ", 'dept" + id + "', " + region(random) + ", "
                + (1 + random.nextInt(EMP_KEYS)) + ", " + parentOf(random, id) + ")"
                + " ON CONFLICT (id) DO UPDATE SET name = excluded.name || dept.id, parent_id = excluded.parent_id";
    }

    /** One to three copies of the same row. */
    private static String insertEvents(Random random) {
        String row = "(" + KINDS[random.nextInt(KINDS.length)] + ", " + amount(random) + ")";
        int copies = 1 + random.nextInt(3);
        return "INSERT INTO events VALUES " + String.join(", ", Collections.nCopies(copies, row));
    }

    private static String parentOf(Random random, int id) {
        return id == 1 || random.nextInt(5) == 0 ? "NULL" : String.valueOf(1 + random.nextInt(id - 1));
    }

    /** Skewed: half of the employees land in department 1; some have none or one that does not exist. */
    private static String deptOf(Random random) {
        int r = random.nextInt(10);
        return r == 0 ? "NULL" : r < 5 ? "1" : String.valueOf(1 + random.nextInt(DEPT_KEYS));
    }

    /** Often a repeated value, so an extremum is shared by several rows. */
    private static String salary(Random random) {
        return random.nextInt(3) == 0 ? String.valueOf(50 * (1 + random.nextInt(3)))
                : random.nextInt(200) + "." + random.nextInt(100);
    }

    private static String bonus(Random random) {
        return random.nextInt(3) == 0 ? "NULL" : String.valueOf(random.nextInt(4));
    }

    private static String amount(Random random) {
        return random.nextInt(5) == 0 ? "NULL" : String.valueOf(random.nextInt(6));
    }

    private static String region(Random random) {
        return random.nextInt(8) == 0 ? "NULL" : "'" + REGIONS[random.nextInt(REGIONS.length)] + "'";
    }
}
