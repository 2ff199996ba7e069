package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.refresh.RefreshResult;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Recursive CTEs refresh DIFFERENTIAL and stay equal to a fresh run of their query: an org chart
 * (UNION ALL, paths), graph reachability over a cyclic graph (UNION), a bill of materials whose
 * shared parts have several derivations (UNION ALL multiplicities), and a chain 1,500 deep where a
 * change near the end touches only the rows below it.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class RecursiveCteIT {
    static final String TREE = """
            WITH RECURSIVE tree AS (
                SELECT id, name, parent_id, name AS path, 0 AS depth FROM departments WHERE parent_id IS NULL
                UNION ALL
                SELECT d.id, d.name, d.parent_id, tree.path || ' > ' || d.name, tree.depth + 1
                  FROM departments d JOIN tree ON d.parent_id = tree.id)
            SELECT id, name, parent_id, path, depth FROM tree""";
    static final String REACH = """
            WITH RECURSIVE reach(src, dst) AS (
                SELECT src, dst FROM edges
                UNION
                SELECT r.src, e.dst FROM reach r, edges e WHERE e.src = r.dst)
            SELECT dst, src FROM reach""";
    static final String BOM = """
            WITH RECURSIVE parts(top, part, qty) AS (
                SELECT b.assembly, b.component, b.qty FROM bom b WHERE b.assembly < 10
                UNION ALL
                SELECT p.top, b.component, p.qty * b.qty FROM parts p JOIN bom b ON b.assembly = p.part)
            SELECT * FROM parts""";

    private final TestDatabase db;

    RecursiveCteIT(TestDatabase db) {
        this.db = db;
    }

    @Test
    void anOrgChartFollowsInsertsRenamesMovesAndDeletesDifferentially() {
        db.execute("DROP TABLE IF EXISTS departments CASCADE",
                "CREATE TABLE departments (id int PRIMARY KEY, name text NOT NULL, parent_id int)",
                "INSERT INTO departments VALUES (1, 'Company', NULL), (2, 'Engineering', 1), (3, 'Sales', 1),"
                        + " (4, 'Backend', 2), (5, 'Frontend', 2), (6, 'Platform', 4)");
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("department_tree", TREE, "1h", "DIFFERENTIAL"));
            assertEquals("department_tree", TREE);

            step(api, "department_tree", TREE, "INSERT INTO departments VALUES (7, 'Infra', 6), (8, 'EMEA', 3)");
            // a rename rewrites the paths of the whole subtree, and only those
            RefreshResult rename = step(api, "department_tree", TREE, "UPDATE departments SET name = 'Eng' WHERE id = 2");
            assertThat(rename.rowsInserted()).isEqualTo(5);
            assertThat(rename.rowsDeleted()).isEqualTo(5);
            step(api, "department_tree", TREE, "UPDATE departments SET parent_id = 3 WHERE id = 4");
            step(api, "department_tree", TREE, "DELETE FROM departments WHERE id = 3");
            step(api, "department_tree", TREE, "INSERT INTO departments VALUES (3, 'Sales again', 1), (9, 'Orphans', NULL)");
            step(api, "department_tree", TREE, "UPDATE departments SET parent_id = NULL WHERE id = 2",
                    "UPDATE departments SET name = name WHERE id = 5");
            // a change in the window that cancels out, and one to an unrelated column set
            step(api, "department_tree", TREE, "INSERT INTO departments VALUES (10, 'Temp', 1)",
                    "DELETE FROM departments WHERE id = 10");
        }
    }

    @Test
    void reachabilityOverACyclicGraphIsMaintainedAsASet() {
        db.execute("DROP TABLE IF EXISTS edges CASCADE", "CREATE TABLE edges (src int, dst int)",
                "INSERT INTO edges VALUES (1, 2), (2, 3), (3, 1), (3, 4), (5, 6)");
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("reach", REACH, "1h", "DIFFERENTIAL"));
            assertEquals("reach", REACH);
            step(api, "reach", REACH, "INSERT INTO edges VALUES (4, 5)");
            step(api, "reach", REACH, "DELETE FROM edges WHERE src = 3 AND dst = 1");
            // a duplicate edge: deleting one copy keeps every path
            step(api, "reach", REACH, "INSERT INTO edges VALUES (2, 3)");
            step(api, "reach", REACH, "DELETE FROM edges WHERE ctid = (SELECT min(ctid) FROM edges WHERE src = 2 AND dst = 3)");
            step(api, "reach", REACH, "UPDATE edges SET dst = 1 WHERE src = 6");
            step(api, "reach", REACH, "DELETE FROM edges WHERE src = 4");
            Random random = new Random(20261207L);
            for (int i = 0; i < 25; i++) {
                List<String> changes = new ArrayList<>();
                for (int k = 0; k < 1 + random.nextInt(3); k++) {
                    int a = random.nextInt(9);
                    int b = random.nextInt(9);
                    changes.add(random.nextInt(3) == 0
                            ? "DELETE FROM edges WHERE ctid = (SELECT min(ctid) FROM edges WHERE src = " + a + ")"
                            : "INSERT INTO edges VALUES (" + a + ", " + b + ")");
                }
                step(api, "reach", REACH, changes.toArray(String[]::new));
            }
        }
    }

    @Test
    void aBillOfMaterialsCountsEveryDerivationOfASharedPart() {
        db.execute("DROP TABLE IF EXISTS bom CASCADE", "CREATE TABLE bom (assembly int, component int, qty int)",
                "CREATE INDEX ON bom (assembly)",
                // 1 uses 20 twice over (directly and through 21); 20 uses 30
                "INSERT INTO bom VALUES (1, 20, 2), (1, 21, 1), (21, 20, 3), (20, 30, 4), (2, 21, 5)");
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("parts", BOM, "1h", "DIFFERENTIAL"));
            assertEquals("parts", BOM);
            step(api, "parts", BOM, "INSERT INTO bom VALUES (30, 40, 2)");
            step(api, "parts", BOM, "INSERT INTO bom VALUES (1, 20, 2)"); // a second, identical line
            step(api, "parts", BOM, "UPDATE bom SET qty = 7 WHERE assembly = 21");
            step(api, "parts", BOM, "DELETE FROM bom WHERE assembly = 20");
            step(api, "parts", BOM, "INSERT INTO bom VALUES (3, 1, 1), (20, 31, 1)");
            Random random = new Random(20261208L);
            for (int i = 0; i < 25; i++) {
                int a = random.nextInt(4) == 0 ? 1 + random.nextInt(3) : 20 + random.nextInt(15);
                int b = a + 1 + random.nextInt(12);
                step(api, "parts", BOM, random.nextBoolean()
                        ? "INSERT INTO bom VALUES (" + a + ", " + b + ", " + (1 + random.nextInt(3)) + ")"
                        : "DELETE FROM bom WHERE ctid = (SELECT min(ctid) FROM bom WHERE assembly = " + a + ")");
            }
        }
    }

    @Test
    void aChainAThousandAndHalfDeepChangesOnlyBelowTheChangedLink() {
        db.execute("DROP TABLE IF EXISTS departments CASCADE",
                "CREATE TABLE departments (id int PRIMARY KEY, name text NOT NULL, parent_id int)",
                "CREATE INDEX ON departments (parent_id)",
                "INSERT INTO departments SELECT g, 'd' || g, nullif(g - 1, 0) FROM generate_series(1, 1500) g");
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("department_tree", TREE, "1h", "DIFFERENTIAL"));
            assertEquals("department_tree", TREE);
            assertThat(db.value("SELECT max(depth) FROM department_tree")).isEqualTo(1499);
            RefreshResult leaf = step(api, "department_tree", TREE, "UPDATE departments SET name = 'x' WHERE id = 1495");
            assertThat(leaf.rowsInserted()).isEqualTo(6);
            assertThat(leaf.rowsDeleted()).isEqualTo(6);
            RefreshResult added = step(api, "department_tree", TREE, "INSERT INTO departments VALUES (1501, 'new', 1500)");
            assertThat(added.rowsInserted()).isEqualTo(1);
            assertThat(added.rowsDeleted()).isZero();
            RefreshResult cut = step(api, "department_tree", TREE, "UPDATE departments SET parent_id = NULL WHERE id = 1001");
            assertThat(cut.rowsDeleted()).isEqualTo(501);
            assertThat(cut.rowsInserted()).isEqualTo(501);
        }
    }

    @Test
    void otherRecursiveFormsAreRefusedInDifferentialNamingTheFixAndRefreshFullInAuto() {
        db.execute("DROP TABLE IF EXISTS departments CASCADE",
                "CREATE TABLE departments (id int PRIMARY KEY, name text NOT NULL, parent_id int)",
                "INSERT INTO departments VALUES (1, 'Company', NULL), (2, 'Engineering', 1)");
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            String filtered = TREE + " WHERE depth > 0";
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> api.create(StreamTableSpec.parse("filtered_tree",
                    filtered, "1h", "DIFFERENTIAL"))).hasMessageContaining("a query over a recursive CTE other than SELECT")
                    .hasMessageContaining("make the CTE its own stream table");
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> api.create(StreamTableSpec.parse("counter",
                    "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r", "1h",
                    "DIFFERENTIAL"))).hasMessageContaining("does not join the CTE with exactly one table");
            var auto = api.create(StreamTableSpec.parse("filtered_tree", filtered, "1h", "AUTO"));
            assertThat(auto.effectiveMode()).isEqualTo(io.pgtrickle.core.lifecycle.RefreshMode.FULL);
            db.execute("INSERT INTO departments VALUES (3, 'Sales', 1)");
            api.refresh("filtered_tree");
            assertThat(db.multisetDifference("SELECT id, name, parent_id, path, depth FROM filtered_tree", filtered)).isEmpty();

            api.create(StreamTableSpec.parse("department_tree", TREE, "1h", "DIFFERENTIAL"));
            var explained = api.explain(io.pgtrickle.core.sql.QualifiedName.parse("department_tree"));
            assertThat(explained.strategy()).contains("recursive CTE (UNION ALL, recursive term joins public.departments)");
            assertThat(explained.deltaSql()).contains("WITH RECURSIVE __pgt_rs").contains("WITH RECURSIVE __pgt_rn");
        }
    }

    /** Runs {@code changes}, refreshes, and checks the refresh was differential and the table exact. */
    private RefreshResult step(StreamTables api, String table, String query, String... changes) {
        db.execute(changes);
        RefreshResult r = api.refresh(table);
        assertThat(r.action()).as(String.join("; ", changes)).isEqualTo("DIFFERENTIAL");
        assertEquals(table, query);
        return r;
    }

    private void assertEquals(String table, String query) {
        String columns = table.equals("reach") ? "dst, src" : table.equals("parts") ? "top, part, qty"
                : "id, name, parent_id, path, depth";
        assertThat(db.multisetDifference("SELECT " + columns + " FROM " + table, query))
                .as(table).isEmpty();
    }
}
