package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.lifecycle.RefreshMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.refresh.RefreshResult;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Functions returning {@code record} in FROM, with a column definition list
 * ({@code jsonb_to_recordset(e.doc -> 'items') AS r(sku text, qty int)}, {@code jsonb_to_record},
 * {@code json_to_recordset}, {@code json_to_record}), are maintained exactly in DIFFERENTIAL like any
 * other function in FROM: with or without LATERAL, as a LEFT JOIN LATERAL, under an aggregate.
 * After every refresh of a random change sequence each stream table equals a fresh run of its query;
 * in IMMEDIATE mode, after every statement. A bad column definition gets PostgreSQL's error.
 */
@ExtendWith(PostgresExtension.class)
class RecordsetFunctionsIT {
    private static final long SEED = Long.getLong("pgtrickle.seed", 20261207L);
    private static final int STEPS = 24;
    private static final String[] SKUS = {"a", "b", "c", "Δ"};

    /** Stream table name to defining query. */
    private static final Map<String, String> QUERIES = new LinkedHashMap<>();

    static {
        QUERIES.put("rs_comma", "SELECT e.id, r.sku, r.qty FROM ev e, jsonb_to_recordset(e.doc -> 'items') AS r(sku text, qty int)");
        QUERIES.put("rs_lateral", "SELECT e.id, e.grp, r.sku, r.qty * 2 AS q2 FROM ev e"
                + " CROSS JOIN LATERAL jsonb_to_recordset(e.doc -> 'items') r(sku text, qty int) WHERE r.qty > 1");
        QUERIES.put("rs_record", "SELECT e.id, r.a, r.b, r.\"Note\" FROM ev e,"
                + " jsonb_to_record(e.doc) AS r(a int, b text, \"Note\" varchar(20))");
        QUERIES.put("rs_star", "SELECT * FROM ev e, jsonb_to_recordset(e.doc -> 'items') AS r(sku text, qty int)");
        QUERIES.put("rs_constant", "SELECT e.id, c.w FROM ev e JOIN jsonb_to_recordset("
                + "'[{\"g\": 0, \"w\": \"w0\"}, {\"g\": 1, \"w\": \"w1\"}, {\"g\": 1}]') AS c(g int, w text) ON c.g = e.grp");
        QUERIES.put("rs_json", "SELECT e.id, r.* FROM ev e, json_to_recordset((e.doc -> 'items')::json) AS r(sku text, qty int)");
        QUERIES.put("rs_json_record", "SELECT e.id, json_to_record.a, json_to_record.b FROM ev e,"
                + " LATERAL json_to_record(e.doc::json) AS (a int, b text)");
        QUERIES.put("rs_left", "SELECT e.id, r.sku, r.qty FROM ev e"
                + " LEFT JOIN LATERAL jsonb_to_recordset(e.doc -> 'items') AS r(sku text, qty int) ON true");
        QUERIES.put("rs_left_on", "SELECT e.id, r.sku FROM ev e"
                + " LEFT JOIN LATERAL jsonb_to_recordset(e.doc -> 'items') AS r(sku text, qty int) ON r.qty >= 2");
        QUERIES.put("rs_sum", "SELECT r.sku, sum(r.qty) AS total, count(*) AS n FROM ev e,"
                + " jsonb_to_recordset(e.doc -> 'items') AS r(sku text, qty int) GROUP BY r.sku");
        QUERIES.put("rs_join", "SELECT g.label, r.sku, sum(r.qty) AS total FROM ev e JOIN grp g ON g.id = e.grp"
                + " CROSS JOIN LATERAL jsonb_to_recordset(e.doc -> 'items') AS r(sku text, qty int) GROUP BY g.label, r.sku");
    }

    private static PgTrickleEngine engine;
    private final TestDatabase db;

    RecordsetFunctionsIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void open(TestDatabase db) {
        engine = EngineFixture.open(db);
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @BeforeEach
    void tables() {
        EngineFixture.dropAllStreamTables(engine.streamTables());
        db.execute("DROP TABLE IF EXISTS ev, grp CASCADE",
                "CREATE TABLE grp (id int PRIMARY KEY, label text)",
                "INSERT INTO grp VALUES (0, 'zero'), (1, 'one'), (2, 'two')",
                "CREATE TABLE ev (id int PRIMARY KEY, grp int, doc jsonb)");
        Random random = new Random(SEED);
        for (int id = 1; id <= 6; id++) {
            db.execute("INSERT INTO ev VALUES (" + id + ", " + random.nextInt(3) + ", " + doc(random) + ")");
        }
    }

    @Test
    void recordsetFunctionsAreMaintainedExactlyInDifferential() {
        StreamTables api = engine.streamTables();
        for (Map.Entry<String, String> q : QUERIES.entrySet()) {
            StreamTableRecord st = api.create(StreamTableSpec.parse(q.getKey(), q.getValue(), "1h", "DIFFERENTIAL"));
            assertThat(st.effectiveMode()).as(q.getValue()).isEqualTo(RefreshMode.DIFFERENTIAL);
            var explanation = api.explain(QualifiedName.parse(q.getKey()));
            assertThat(explanation.effectiveMode()).as(q.getValue()).isEqualTo(RefreshMode.DIFFERENTIAL);
            assertThat(explanation.deltaSql()).as(q.getValue()).isNotNull();
            assertThat(db.value("SELECT count(*) FROM " + q.getKey())).as("rows of " + q.getValue()).isNotEqualTo(0L);
            assertSame(q.getKey(), "after create");
        }
        Random random = new Random(SEED + 1);
        List<Integer> ids = new ArrayList<>(List.of(1, 2, 3, 4, 5, 6));
        int next = 7;
        for (int step = 1; step <= STEPS; step++) {
            List<String> changes = new ArrayList<>();
            for (int k = 0; k <= random.nextInt(3); k++) {
                int choice = ids.isEmpty() ? 0 : random.nextInt(4);
                if (choice == 0) {
                    changes.add("INSERT INTO ev VALUES (" + next + ", " + random.nextInt(3) + ", " + doc(random) + ")");
                    ids.add(next++);
                } else if (choice == 1) {
                    changes.add("UPDATE ev SET doc = " + doc(random) + " WHERE id = " + ids.get(random.nextInt(ids.size())));
                } else if (choice == 2) {
                    changes.add("UPDATE ev SET grp = " + random.nextInt(3) + " WHERE id = " + ids.get(random.nextInt(ids.size())));
                } else {
                    changes.add("DELETE FROM ev WHERE id = " + ids.remove(random.nextInt(ids.size())));
                }
            }
            db.execute(changes.toArray(String[]::new));
            String context = "seed " + SEED + ", step " + step + " after " + changes;
            for (String name : QUERIES.keySet()) {
                RefreshResult result = api.refresh(name);
                assertThat(result.action()).as(name + ", " + context).isEqualTo("DIFFERENTIAL");
                assertSame(name, context);
            }
        }
        for (String name : QUERIES.keySet()) {
            assertThat(api.require(QualifiedName.parse(name)).effectiveMode()).as(name).isEqualTo(RefreshMode.DIFFERENTIAL);
        }
    }

    @Test
    void recordsetFunctionsAreMaintainedExactlyInImmediateMode() {
        StreamTables api = engine.streamTables();
        List<String> names = List.of("rs_lateral", "rs_left_on", "rs_sum");
        for (String name : names) {
            StreamTableRecord st = api.create(StreamTableSpec.parse(name, QUERIES.get(name), "1h", "IMMEDIATE"));
            assertThat(st.effectiveMode()).as(name).isEqualTo(RefreshMode.IMMEDIATE);
        }
        Random random = new Random(SEED + 2);
        for (int step = 1; step <= 8; step++) {
            int id = 1 + random.nextInt(9);
            String change = switch (random.nextInt(3)) {
                case 0 -> "INSERT INTO ev VALUES (" + id + ", 1, " + doc(random) + ") ON CONFLICT (id) DO UPDATE SET doc = excluded.doc";
                case 1 -> "UPDATE ev SET doc = " + doc(random) + " WHERE id = " + id;
                default -> "DELETE FROM ev WHERE id = " + id;
            };
            db.execute(change);
            for (String name : names) {
                assertSame(name, "seed " + SEED + ", immediate step " + step + " after " + change);
            }
        }
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " ==> ", value = {
            "SELECT r.a FROM ev e, jsonb_to_record(e.doc) AS r(a nosuchtype) ==> nosuchtype",
            "SELECT r.a FROM ev e, unnest(ARRAY[e.id]) AS r(a int) ==> column definition list",
            "SELECT r.a FROM ev e, jsonb_to_record(e.doc) AS r ==> column definition list is required",
            "SELECT r.k FROM ev e, jsonb_each(e.doc) AS r(k text, v jsonb, x int) ==> column definition list",
    })
    void badColumnDefinitionGivesPostgresError(String query, String message) {
        assertThatThrownBy(() -> engine.streamTables().create(StreamTableSpec.parse("rs_bad", query, "1h", "DIFFERENTIAL")))
                .hasMessageContaining(message);
    }

    /** A random document: items of known, unknown or missing keys, sometimes none or no document. */
    private static String doc(Random random) {
        int shape = random.nextInt(10);
        if (shape == 0) {
            return "NULL";
        }
        if (shape == 1) {
            return "'{}'";
        }
        StringBuilder items = new StringBuilder("[");
        int n = random.nextInt(4);
        for (int i = 0; i < n; i++) {
            items.append(i > 0 ? "," : "").append("{\"sku\":\"").append(SKUS[random.nextInt(SKUS.length)]).append('"');
            if (random.nextInt(5) > 0) {
                items.append(",\"qty\":").append(random.nextInt(5));
            }
            items.append('}');
        }
        items.append(']');
        String a = random.nextInt(4) == 0 ? "" : ",\"a\":" + random.nextInt(3);
        String note = random.nextInt(2) == 0 ? "" : ",\"Note\":\"n" + random.nextInt(3) + "\"";
        return "'{\"items\":" + items + a + ",\"b\":\"x" + random.nextInt(2) + "\"" + note + "}'";
    }

    /** The stream table equals a fresh run of its query, as a multiset. */
    private void assertSame(String name, String context) {
        String query = QUERIES.get(name);
        List<String> names = db.rows("SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = ?::regclass"
                + " AND attnum > 0 AND NOT attisdropped AND attname NOT LIKE '\\_\\_pgt\\_%' ORDER BY attnum", name)
                .stream().map(r -> (String) r.get(0)).toList();
        String columns = String.join(", ", names);
        String fresh = "SELECT " + columns + " FROM (" + query + ") AS q(" + columns + ")";
        assertThat(db.multisetDifference(fresh, "SELECT " + columns + " FROM " + name)).as(name + ", " + context).isEmpty();
    }
}
