package io.pgtrickle.cli;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.sql.QualifiedName;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The org chart of the getting-started guide, played against a database by a running engine:
 * two ordinary tables, three chained stream tables created through the SQL functions, then four
 * changes. After each change it waits until the scheduler has carried it through every layer,
 * shows the tables that changed, and checks each stream table against a fresh run of its query; the
 * last layer's changes are streamed out by the relay ({@link DemoStream}) and read back from Kafka
 * (and NATS and Redis when they run here).
 */
final class OrgChartDemo {
    private static final String INDENT = "  ";

    /** A stream table of the demo: its definition and how to show it. */
    private record Layer(String name, String query, String schedule, String shownColumns, String orderBy) {
        QualifiedName qualifiedName() {
            return new QualifiedName("public", name);
        }

        String showSql() {
            return "SELECT " + shownColumns + " FROM " + name + " ORDER BY " + orderBy;
        }
    }

    /** A change to the base tables. */
    private record Step(String label, String title, String sql) {
    }

    private static final String BASE_TABLES = """
            CREATE TABLE departments (
                id        serial PRIMARY KEY,
                name      text NOT NULL,
                parent_id int REFERENCES departments (id)
            );
            CREATE TABLE employees (
                id            serial PRIMARY KEY,
                name          text NOT NULL,
                department_id int NOT NULL REFERENCES departments (id),
                salary        numeric(10,2) NOT NULL
            );
            INSERT INTO departments (id, name, parent_id) VALUES
                (1, 'Company', NULL),
                (2, 'Engineering', 1), (3, 'Sales', 1), (4, 'Operations', 1),
                (5, 'Backend', 2), (6, 'Frontend', 2), (7, 'Platform', 2);
            INSERT INTO employees (name, department_id, salary) VALUES
                ('Alice', 5, 120000), ('Bob', 5, 115000), ('Charlie', 6, 110000), ('Diana', 7, 130000),
                ('Eve', 3, 95000), ('Frank', 3, 90000), ('Grace', 4, 100000);""";

    private static final List<Layer> LAYERS = List.of(
            new Layer("department_tree", """
                    WITH RECURSIVE tree AS (
                        SELECT id, name, parent_id, name AS path, 0 AS depth
                          FROM departments
                         WHERE parent_id IS NULL
                        UNION ALL
                        SELECT d.id, d.name, d.parent_id, tree.path || ' > ' || d.name, tree.depth + 1
                          FROM departments d
                          JOIN tree ON d.parent_id = tree.id
                    )
                    SELECT id, name, parent_id, path, depth FROM tree""", "calculated",
                    "id, name, parent_id, path, depth", "path"),
            new Layer("department_stats", """
                    SELECT t.id AS department_id, t.name AS department_name, t.path AS full_path, t.depth,
                           count(e.id) AS headcount,
                           coalesce(sum(e.salary), 0) AS total_salary,
                           coalesce(avg(e.salary), 0) AS avg_salary
                      FROM department_tree t
                      LEFT JOIN employees e ON e.department_id = t.id
                     GROUP BY t.id, t.name, t.path, t.depth""", "calculated",
                    // avg_salary is rounded for display only; the check compares the stored value.
                    "department_id, department_name, full_path, depth, headcount, total_salary,"
                            + " round(avg_salary, 2) AS avg_salary", "full_path"),
            new Layer("department_report", """
                    SELECT split_part(full_path, ' > ', 2) AS division,
                           sum(headcount) AS total_headcount,
                           sum(total_salary) AS total_payroll
                      FROM department_stats
                     WHERE depth >= 1
                     GROUP BY 1""", "1s",
                    "division, total_headcount, total_payroll", "division"));

    private static final List<Step> STEPS = List.of(
            new Step("4a", "INSERT: Heidi joins Frontend",
                    "INSERT INTO employees (name, department_id, salary) VALUES ('Heidi', 6, 105000);"),
            new Step("4b", "INSERT: a new team, DevOps, under Engineering",
                    "INSERT INTO departments (id, name, parent_id) VALUES (8, 'DevOps', 2);"),
            new Step("4c", "UPDATE: Engineering is renamed R&D",
                    "UPDATE departments SET name = 'R&D' WHERE id = 2;"),
            new Step("4d", "DELETE: Bob leaves",
                    "DELETE FROM employees WHERE name = 'Bob';"));

    private final String jdbcUrl;
    private final PrintWriter out;
    private final Duration cascadeTimeout;

    /**
     * @param jdbcUrl an empty database (no {@code departments} or {@code employees} tables)
     * @param out where the story is told
     * @param cascadeTimeout how long one change may take to reach every layer
     */
    OrgChartDemo(String jdbcUrl, PrintWriter out, Duration cascadeTimeout) {
        this.jdbcUrl = jdbcUrl;
        this.out = out;
        this.cascadeTimeout = cascadeTimeout;
    }

    /**
     * Plays the demo.
     *
     * @throws PgTrickleException {@code REFRESH_FAILED} when a cascade fails or times out,
     *     {@code INTERNAL} when a stream table differs from its query
     */
    void run() throws Exception {
        try (PgTrickleEngine engine = startEngine(); Connection c = DriverManager.getConnection(jdbcUrl)) {
            section("Step 1", "two ordinary tables");
            show(BASE_TABLES);
            execute(c, BASE_TABLES);

            section("Step 2", "a stream table over a recursive query: every department with its path");
            createStreamTable(c, LAYERS.get(0));
            section("Step 3", "two more layers, each reading the one before");
            createStreamTable(c, LAYERS.get(1));
            createStreamTable(c, LAYERS.get(2));
            out.println();
            out.println(INDENT + "departments --> department_tree --> department_stats --> department_report");
            out.println(INDENT + "                                      employees --^");
            out.println(INDENT + "Only department_report has a schedule (1s); the 'calculated' layers upstream refresh");
            out.println(INDENT + "as often as it needs them, always upstream first.");
            Map<String, TextTable> state = snapshot(c);
            for (Layer layer : LAYERS) {
                printTable(layer, state.get(layer.name()), null);
            }
            out.println();
            check(engine, c);

            section("Step 3b", "stream department_report's changes out");
            String enable = "SELECT pgtrickle.enable_outbox('department_report');";
            show(enable);
            execute(c, enable);
            out.println(INDENT + "-- each refresh now also writes its row-level delta to an outbox; the relay (running in");
            out.println(INDENT + "-- this process) publishes the outbox, each change exactly once, to:");
            try (DemoStream stream = DemoStream.start(jdbcUrl, "department_report", out)) {
                stream.report(c, null, cascadeTimeout, out);
                for (Step step : STEPS) {
                    state = play(c, engine, stream, step, state);
                }
            }
        }
        whatNext();
    }

    private PgTrickleEngine startEngine() {
        out.print("starting the pg_trickle engine ...");
        out.flush();
        PgTrickleEngine engine = PgTrickleEngine.open(EngineConfig.of(jdbcUrl));
        try {
            engine.start();
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
        out.println(" running; its scheduler looks for due stream tables every second");
        return engine;
    }

    private void createStreamTable(Connection c, Layer layer) throws SQLException {
        String sql = "SELECT pgtrickle.create_stream_table('" + layer.name() + "', $$\n"
                + layer.query().indent(4) + "$$, schedule => '" + layer.schedule() + "');";
        out.println();
        show(sql);
        long request;
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            request = rs.getLong(1);
        }
        execute(c, "SELECT pgtrickle.await_request(" + request + ")");
        out.println(INDENT + "-- request " + request + " done: the engine created " + layer.name()
                + " and filled it");
    }

    /** Makes the change, waits for the cascade, shows what changed and checks every layer. */
    private Map<String, TextTable> play(Connection c, PgTrickleEngine engine, DemoStream stream, Step step,
                                        Map<String, TextTable> before) throws SQLException, InterruptedException {
        section("Step " + step.label(), step.title());
        show(step.sql());
        execute(c, step.sql());
        Instant committed = Instant.now();
        out.print(INDENT + "waiting for the scheduler to refresh the three layers ...");
        out.flush();
        List<CascadeWatch.Refresh> refreshes = CascadeWatch.await(c,
                LAYERS.stream().map(Layer::qualifiedName).toList(), committed, cascadeTimeout);
        out.println(" done");

        Map<String, TextTable> after = snapshot(c);
        List<String> changed = new ArrayList<>();
        List<String> summary = new ArrayList<>();
        for (int i = 0; i < LAYERS.size(); i++) {
            Layer layer = LAYERS.get(i);
            List<List<String>> added = minus(after.get(layer.name()).rows(), before.get(layer.name()).rows());
            List<List<String>> removed = minus(before.get(layer.name()).rows(), after.get(layer.name()).rows());
            boolean layerChanged = !added.isEmpty() || !removed.isEmpty();
            if (layerChanged) {
                changed.add(layer.name());
                printTable(layer, after.get(layer.name()), before.get(layer.name()));
            }
            Duration at = Duration.between(committed, refreshes.get(i).finishedAt().toInstant());
            summary.add(String.format("%-18s %-12s refreshed %s after COMMIT", layer.name(),
                    layerChanged ? rowChanges(removed.size(), added.size()) : "unchanged", Formats.seconds(at)));
        }
        out.println();
        for (int i = 0; i < summary.size(); i++) {
            out.println(INDENT + (i == 0 ? "cascade   " : "          ") + summary.get(i));
        }
        Duration total = Duration.between(committed, refreshes.get(refreshes.size() - 1).finishedAt().toInstant());
        out.println(INDENT + "          " + changed.size() + " of " + LAYERS.size() + " layers changed; the cascade"
                + " took " + Formats.seconds(total) + " from COMMIT to the last refresh");
        check(engine, c);
        stream.report(c, committed, cascadeTimeout, out);
        if (!stream.complete(c)) {
            throw new PgTrickleException(ErrorCode.INTERNAL, "a consumer did not receive every change of"
                    + " department_report's outbox");
        }
        return after;
    }

    /** {@code +1 row}, {@code -1 +1 rows}, {@code -5 +5 rows}. */
    private static String rowChanges(int removed, int added) {
        String text = (removed > 0 ? "-" + removed : "") + (removed > 0 && added > 0 ? " " : "")
                + (added > 0 ? "+" + added : "");
        return text + (removed + added == 1 ? " row" : " rows");
    }

    /** Fails unless every stream table equals a fresh run of its defining query. */
    private void check(PgTrickleEngine engine, Connection c) throws SQLException {
        for (Layer layer : LAYERS) {
            String query = engine.streamTables().require(layer.qualifiedName()).query();
            List<String> differences = InvariantCheck.differences(c, layer.qualifiedName(), query, 10);
            if (!differences.isEmpty()) {
                throw new PgTrickleException(ErrorCode.INTERNAL, layer.name()
                        + " differs from a fresh run of its defining query: " + String.join("; ", differences));
            }
        }
        out.println(INDENT + "check     all " + LAYERS.size() + " stream tables equal a fresh run of their defining"
                + " queries (EXCEPT ALL, both ways)");
        out.flush();
    }

    private Map<String, TextTable> snapshot(Connection c) throws SQLException {
        Map<String, TextTable> tables = new LinkedHashMap<>();
        for (Layer layer : LAYERS) {
            tables.put(layer.name(), TextTable.query(c, layer.showSql()));
        }
        return tables;
    }

    /** Prints {@code now}; with {@code before}, marks rows that are new with + and lists the gone ones with -. */
    private void printTable(Layer layer, TextTable now, TextTable before) {
        out.println();
        if (before == null) {
            out.println(INDENT + layer.name() + " (ORDER BY " + layer.orderBy() + ")");
            out.print(now.render(INDENT));
            return;
        }
        out.println(INDENT + layer.name() + " (ORDER BY " + layer.orderBy() + "; + new or changed row, - row gone)");
        Map<List<String>, Integer> old = counts(before.rows());
        TextTable marked = now.emptyCopy();
        for (List<String> row : now.rows()) {
            boolean kept = old.getOrDefault(row, 0) > 0;
            if (kept) {
                old.merge(row, -1, Integer::sum);
            }
            marked.add(kept ? " " : "+", row);
        }
        for (List<String> gone : minus(before.rows(), now.rows())) {
            marked.add("-", gone);
        }
        out.print(marked.render(INDENT));
    }

    /** The rows of {@code a} that are not in {@code b}, counting duplicates (multiset difference). */
    private static List<List<String>> minus(List<List<String>> a, List<List<String>> b) {
        Map<List<String>, Integer> remaining = counts(b);
        List<List<String>> result = new ArrayList<>();
        for (List<String> row : a) {
            if (remaining.getOrDefault(row, 0) > 0) {
                remaining.merge(row, -1, Integer::sum);
            } else {
                result.add(row);
            }
        }
        return result;
    }

    private static Map<List<String>, Integer> counts(List<List<String>> rows) {
        Map<List<String>, Integer> counts = new HashMap<>();
        rows.forEach(row -> counts.merge(row, 1, Integer::sum));
        return counts;
    }

    private void whatNext() {
        section("What next", "");
        out.println(INDENT + "The demo's PostgreSQL was temporary and is gone. To keep stream tables of your own:");
        out.println();
        out.println(INDENT + "bin/pgtrickle run          # PostgreSQL 18 (data in ~/.pgtrickle/pgdata) + the engine;"
                + " Ctrl-C stops both");
        out.println();
        out.println(INDENT + "and, in another terminal:");
        out.println(INDENT + "bin/pgtrickle create order_totals --schedule 30s \\");
        out.println(INDENT + "    --query 'SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id'");
        out.println(INDENT + "bin/pgtrickle status");
        out.println(INDENT + "psql \"postgresql://postgres@localhost:54329/postgres\"   # pgtrickle.create_stream_table(...)"
                + " works too");
        out.println();
        out.println(INDENT + "bin/pgtrickle-relay --config config-examples/relay-stdout-embedded.toml   # the relay on its"
                + " own: PostgreSQL, engine, stream tables and pipelines from one TOML file");
        out.println();
        out.println(INDENT + "Against your own PostgreSQL (wal_level=logical): bin/pgtrickle run --jdbc-url"
                + " jdbc:postgresql://HOST:5432/DB --user NAME");
        out.println(INDENT + "with the password in PGTRICKLE_PASSWORD. 'bin/pgtrickle --help' lists every command.");
        out.flush();
    }

    private void section(String label, String title) {
        out.println();
        out.println(title.isEmpty() ? label : label + "  " + title);
        out.flush();
    }

    private void show(String sql) {
        out.print(sql.strip().indent(INDENT.length()));
        out.flush();
    }

    private static void execute(Connection c, String sql) throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }
}
