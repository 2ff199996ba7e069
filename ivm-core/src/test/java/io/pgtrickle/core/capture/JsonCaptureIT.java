package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * json and jsonb columns are captured as JSON values, not as strings holding JSON text, so that
 * operators on them give the same answers on captured rows as on the table; and the JSON value
 * {@code null} stays apart from SQL NULL, at the top level, in domains over jsonb and in arrays of
 * json and jsonb.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class JsonCaptureIT {
    private static final String QUERY = "SELECT id, jb ->> 'a' AS a, jb -> 'nested' ->> 'k' AS k, jb ? 'flag' AS has_flag,"
            + " jsonb_typeof(jb) AS jb_type, j ->> 'b' AS b, json_typeof(j) AS j_type, jb @> '{\"a\": 2}' AS contains_2,"
            + " jsonb_array_length(coalesce(jb -> 'list', '[]')) AS list_length FROM docs";

    /** Stream tables over rows holding JSON nulls and SQL NULLs, by name; each is compared with its query. */
    private static final Map<String, String> NULL_QUERIES = new LinkedHashMap<>();

    static {
        NULL_QUERIES.put("nulls_copy", "SELECT id, n, jb, dj, jb IS NULL AS jb_sql_null, j IS NULL AS j_sql_null,"
                + " dj IS NULL AS dj_sql_null, jba IS NULL AS jba_sql_null, ja IS NULL AS ja_sql_null,"
                + " jba::text AS jba_text, ja::text AS ja_text, g, g IS NULL AS g_sql_null, gt FROM nulls");
        NULL_QUERIES.put("nulls_ops", "SELECT id, jsonb_typeof(jb) AS jb_type, json_typeof(j) AS j_type, jsonb_typeof(dj) AS dj_type,"
                + " jb ->> 'a' AS a, jb -> 'a' IS NULL AS a_absent, jsonb_typeof(jb -> 'a') AS a_type, jb @> '{\"a\": null}' AS has_null_a,"
                + " jb ? 'a' AS has_a, jb = 'null' AS is_json_null, coalesce(jb, '\"sql null\"') AS jb_or, j::text AS j_text,"
                + " jsonb_path_query_array(jb, '$.a') AS path_a, jsonb_path_exists(jb, '$[*]?(@ == null)') AS has_null_element,"
                + " jba[1] IS NULL AS first_sql_null, jsonb_typeof(jba[1]) AS first_type, cardinality(jba) AS elements,"
                + " json_typeof(ja[1]) AS ja_first_type FROM nulls");
        NULL_QUERIES.put("nulls_kinds", "SELECT jsonb_typeof(jb) AS kind, count(*) AS n, count(jb) AS non_null,"
                + " string_agg(id::text, ',' ORDER BY id) AS ids FROM nulls GROUP BY jsonb_typeof(jb)");
        NULL_QUERIES.put("nulls_paths", "SELECT id, jsonb_path_query(jb, '$.a') AS v FROM nulls");
        // Window functions read the source as it was before the window, decoded from the window's images.
        NULL_QUERIES.put("nulls_ranked", "SELECT id, jb, j::text AS j_text, dj, jba::text AS jba_text,"
                + " count(*) OVER (PARTITION BY jsonb_typeof(jb)) AS same_kind, rank() OVER (PARTITION BY jb IS NULL ORDER BY id) AS r"
                + " FROM nulls");
        NULL_QUERIES.put("nulls_log_ranked", "SELECT jb, tag, row_number() OVER (PARTITION BY jb ORDER BY tag) AS r FROM nulls_log");
        NULL_QUERIES.put("nulls_log_kinds", "SELECT jb, count(*) AS n, string_agg(tag, ',' ORDER BY tag) AS tags"
                + " FROM nulls_log GROUP BY jb");
    }

    private final TestDatabase db;

    JsonCaptureIT(TestDatabase db) {
        this.db = db;
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void jsonOperatorsAnswerTheSameOnCapturedRows(CdcMode mode) {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            db.execute("DROP TABLE IF EXISTS docs CASCADE",
                    "CREATE TABLE docs (id int PRIMARY KEY, jb jsonb, j json)",
                    "INSERT INTO docs VALUES (1, '{\"a\": 1, \"list\": [1, 2]}', '{\"b\": \"x\"}')");
            api.create(StreamTableSpec.parse("doc_view", QUERY, "1h", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("doc_keys", "SELECT jb ->> 'a' AS a, count(*) AS n FROM docs GROUP BY jb ->> 'a'",
                    "1h", "DIFFERENTIAL"));

            db.execute("INSERT INTO docs VALUES (2, '{\"a\": 2, \"nested\": {\"k\": \"v\"}, \"flag\": true}', '{\"b\": [1, 2]}'),"
                            + " (3, '[1, 2, 3]', '\"just a string\"'), (5, NULL, NULL)",
                    "UPDATE docs SET jb = jsonb_set(jb, '{a}', '3'), j = '{\"b\": \"y\"}' WHERE id = 1");
            api.refresh("doc_view");
            api.refresh("doc_keys");
            assertMatchesQuery();

            db.execute("UPDATE docs SET jb = jb || '{\"list\": [7, 8, 9]}' WHERE id = 2",
                    "UPDATE docs SET jb = '{\"a\": 2}' WHERE id = 3", "DELETE FROM docs WHERE id = 1");
            api.refresh("doc_view");
            api.refresh("doc_keys");
            assertMatchesQuery();
            assertThat(db.rows("SELECT a, k, has_flag, jb_type, b FROM doc_view WHERE id = 2"))
                    .containsExactly(List.of("2", "v", true, "object", "[1, 2]"));
        }
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void jsonNullAndSqlNullStayApartThroughCaptureAndDecoding(CdcMode mode) {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            db.execute("DROP TABLE IF EXISTS nulls, nulls_log CASCADE", "DROP DOMAIN IF EXISTS jdoc CASCADE",
                    "CREATE DOMAIN jdoc AS jsonb",
                    "CREATE TABLE nulls (id int PRIMARY KEY, n int, jb jsonb, j json, dj jdoc, jba jsonb[], ja json[],"
                            // computed by WAL capture before PostgreSQL 18, from the decoded image (GeneratedColumns)
                            + " g jsonb GENERATED ALWAYS AS (jb -> 'a') STORED, gt text GENERATED ALWAYS AS (jsonb_typeof(jb)) STORED)",
                    // Out of line, so that an UPDATE of n alone leaves them out of the WAL record's new image.
                    "ALTER TABLE nulls ALTER COLUMN jb SET STORAGE EXTERNAL, ALTER COLUMN jba SET STORAGE EXTERNAL",
                    "CREATE TABLE nulls_log (jb jsonb, tag text)",
                    "INSERT INTO nulls VALUES (1, 0, 'null', 'null', 'null', ARRAY['null'::jsonb, NULL], ARRAY['null'::json, NULL]),"
                            + " (2, 0, NULL, NULL, NULL, NULL, NULL)",
                    "INSERT INTO nulls_log VALUES ('null', 'a'), (NULL, 'b')");
            NULL_QUERIES.forEach((name, query) -> api.create(StreamTableSpec.parse(name, query, "1h", "DIFFERENTIAL")));

            db.execute("INSERT INTO nulls VALUES (3, 0, 'null', 'null', 'null', ARRAY[NULL, 'null'::jsonb], ARRAY[NULL, 'null'::json]),"
                            + " (4, 0, NULL, NULL, NULL, ARRAY[NULL]::jsonb[], ARRAY[NULL]::json[]),"
                            + " (5, 0, '{\"a\": null}', '[null]', '{\"a\": null}', ARRAY['{\"a\": null}'::jsonb], ARRAY['[null]'::json]),"
                            + " (6, 0, '[null]', '{\"a\": null}', '[null]', '{}', '{}'),"
                            + " (7, 0, '{\"a\": [null, 1], \"b\": null}', '{\"b\": [null]}', '{}', ARRAY['[null]'::jsonb, NULL, 'null'], NULL),"
                            // a large document and array, stored out of line
                            + " (8, 0, (SELECT jsonb_object_agg(md5(g::text), CASE WHEN g % 2 = 0 THEN 'null'::jsonb END) FROM generate_series(1, 2000) g),"
                            + "  'null', 'null', (SELECT array_agg(CASE g % 3 WHEN 0 THEN 'null'::jsonb WHEN 1 THEN to_jsonb(md5(g::text)) END)"
                            + "  FROM generate_series(1, 2000) g), ARRAY['null'::json])",
                    "INSERT INTO nulls_log VALUES ('null', 'c'), (NULL, 'd'), ('{\"a\": null}', 'e'), ('[null]', 'f')",
                    // JSON null -> value, SQL NULL -> JSON null
                    "UPDATE nulls SET jb = '{\"a\": 1}', j = '{\"a\": 1}', dj = '1', jba = ARRAY['1'::jsonb], ja = ARRAY['1'::json] WHERE id = 1",
                    "UPDATE nulls SET jb = 'null', j = 'null', dj = 'null', jba = ARRAY['null'::jsonb], ja = ARRAY['null'::json] WHERE id = 2");
            refreshAllAndCheckNulls(api);
            assertThat(db.rows("SELECT id, jb_sql_null, jsonb_typeof(jb), dj_sql_null, jba_text FROM nulls_copy WHERE id IN (2, 3, 4) ORDER BY id"))
                    .containsExactly(List.of(2, false, "null", false, "{\"null\"}"), List.of(3, false, "null", false, "{NULL,\"null\"}"),
                            java.util.Arrays.asList(4, true, null, true, "{NULL}"));

            db.execute(// value -> SQL NULL, JSON null -> value, JSON null -> SQL NULL, SQL NULL -> JSON null
                    "UPDATE nulls SET jb = NULL, j = NULL, dj = NULL, jba = NULL, ja = NULL WHERE id = 1",
                    "UPDATE nulls SET jb = '[1]', j = '[1]', dj = '[1]', jba = '{}', ja = '{}' WHERE id = 2",
                    "UPDATE nulls SET jb = NULL, j = NULL, dj = NULL, jba = ARRAY[NULL]::jsonb[], ja = NULL WHERE id = 3",
                    "UPDATE nulls SET jb = 'null', j = 'null', dj = 'null', jba = ARRAY['null'::jsonb], ja = ARRAY['null'::json] WHERE id = 4",
                    // other columns only: both images keep their JSON nulls (and, under WAL, the large values come from the old image)
                    "UPDATE nulls SET n = n + 1 WHERE id IN (6, 8)",
                    "DELETE FROM nulls WHERE id = 5",
                    "UPDATE nulls_log SET tag = tag || '!' WHERE jb = 'null' OR jb IS NULL",
                    "DELETE FROM nulls_log WHERE jb = '[null]'");
            refreshAllAndCheckNulls(api);

            db.execute(// SQL NULL -> JSON null -> (deleted), value -> SQL NULL
                    "UPDATE nulls SET jb = 'null', j = 'null', dj = 'null', jba = ARRAY['null'::jsonb], ja = ARRAY['null'::json] WHERE id = 1",
                    "UPDATE nulls SET jb = NULL, j = NULL, dj = NULL, jba = NULL, ja = NULL WHERE id = 2",
                    "DELETE FROM nulls WHERE id IN (3, 4, 7)",
                    "DELETE FROM nulls_log WHERE jb = 'null'");
            refreshAllAndCheckNulls(api);
            assertThat(db.rows("SELECT kind, n, non_null, ids FROM nulls_kinds ORDER BY kind NULLS FIRST")).containsExactly(
                    java.util.Arrays.asList(null, 1L, 0L, "2"), List.of("array", 1L, 1L, "6"),
                    List.of("null", 1L, 1L, "1"), List.of("object", 1L, 1L, "8"));
        }
    }

    private void refreshAllAndCheckNulls(StreamTables api) {
        NULL_QUERIES.keySet().forEach(api::refresh);
        NULL_QUERIES.forEach((name, query) -> {
            // (The test's JDBC statements take ? for a parameter; ?? is the jsonb operator there.)
            String columns = String.join(", ", db.rows("SELECT CASE WHEN atttypid IN ('json'::regtype, 'json[]'::regtype)"
                    + " THEN quote_ident(attname) || '::text' ELSE quote_ident(attname) END FROM pg_attribute"
                    + " WHERE attrelid = ?::regclass AND attnum > 0 AND NOT attisdropped AND attname NOT LIKE '\\_\\_pgt\\_%'"
                    + " ORDER BY attnum", name).stream().map(r -> (String) r.get(0)).toList());
            assertThat(db.multisetDifference("SELECT " + columns + " FROM (" + query.replace(" ? ", " ?? ") + ") q",
                    "SELECT " + columns + " FROM " + name)).as(name).isEmpty();
        });
    }

    private void assertMatchesQuery() {
        // Had a captured value been a string holding JSON text, ->> would give NULL and jsonb_typeof 'string'.
        // (The test's JDBC statements take ? for a parameter; ?? is the jsonb operator there.)
        assertThat(db.multisetDifference(QUERY.replace(" ? ", " ?? "),
                "SELECT id, a, k, has_flag, jb_type, b, j_type, contains_2, list_length FROM doc_view")).isEmpty();
        assertThat(db.multisetDifference("SELECT jb ->> 'a' AS a, count(*) AS n FROM docs GROUP BY jb ->> 'a'",
                "SELECT a, n FROM doc_keys")).isEmpty();
    }
}
