package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Tracking a table with a stored generated column must not break the user's writes (PostgreSQL 18
 * refuses UPDATE and DELETE when the replica identity holds an unpublished generated column), and
 * the generated values reach the stream tables.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class GeneratedColumnCaptureIT {
    private static final String QUERY = "SELECT id, price, qty, total FROM lines WHERE total > 5";
    private final TestDatabase db;

    GeneratedColumnCaptureIT(TestDatabase db) {
        this.db = db;
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void updatesAndDeletesOfATrackedTableWithAGeneratedColumnWorkAndAreCaptured(CdcMode mode) {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            db.execute("DROP TABLE IF EXISTS lines CASCADE",
                    "CREATE TABLE lines (id int PRIMARY KEY, price numeric(10,2) NOT NULL, qty int NOT NULL,"
                            + " total numeric(12,2) GENERATED ALWAYS AS (price * qty) STORED)",
                    "INSERT INTO lines (id, price, qty) VALUES (1, 2.50, 4), (2, 1.00, 1)");
            api.create(StreamTableSpec.parse("big_lines", QUERY, "1h", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("line_totals", "SELECT sum(total) AS s, count(*) AS n FROM lines", "1h",
                    "DIFFERENTIAL"));

            // The user's own statements, as they would run them.
            db.execute("INSERT INTO lines (id, price, qty) VALUES (3, 3.00, 3)",
                    "UPDATE lines SET qty = 10 WHERE id = 2",
                    "UPDATE lines SET price = 0.50 WHERE id = 1",
                    "DELETE FROM lines WHERE id = 3");
            api.refresh("big_lines");
            api.refresh("line_totals");

            assertThat(db.multisetDifference(QUERY, "SELECT id, price, qty, total FROM big_lines")).isEmpty();
            assertThat(db.multisetDifference("SELECT sum(total) AS s, count(*) AS n FROM lines",
                    "SELECT s, n FROM line_totals")).isEmpty();
            assertThat(db.value("SELECT string_agg(id || ':' || total, ',' ORDER BY id) FROM big_lines"))
                    .isEqualTo("2:10.00");
        }
    }
}
