package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * json and jsonb columns are captured as JSON values, not as strings holding JSON text, so that
 * operators on them give the same answers on captured rows as on the table.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class JsonCaptureIT {
    private static final String QUERY = "SELECT id, jb ->> 'a' AS a, jb -> 'nested' ->> 'k' AS k, jb ? 'flag' AS has_flag,"
            + " jsonb_typeof(jb) AS jb_type, j ->> 'b' AS b, json_typeof(j) AS j_type, jb @> '{\"a\": 2}' AS contains_2,"
            + " jsonb_array_length(coalesce(jb -> 'list', '[]')) AS list_length FROM docs";

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

    private void assertMatchesQuery() {
        // Had a captured value been a string holding JSON text, ->> would give NULL and jsonb_typeof 'string'.
        // (The test's JDBC statements take ? for a parameter; ?? is the jsonb operator there.)
        assertThat(db.multisetDifference(QUERY.replace(" ? ", " ?? "),
                "SELECT id, a, k, has_flag, jb_type, b, j_type, contains_2, list_length FROM doc_view")).isEmpty();
        assertThat(db.multisetDifference("SELECT jb ->> 'a' AS a, count(*) AS n FROM docs GROUP BY jb ->> 'a'",
                "SELECT a, n FROM doc_keys")).isEmpty();
    }
}
