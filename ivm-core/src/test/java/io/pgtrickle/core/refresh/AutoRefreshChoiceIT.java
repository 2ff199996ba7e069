package io.pgtrickle.core.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * AUTO decides on an estimate of the window before it reads the window, so a refresh it makes FULL
 * does not pay for reading and decoding the changes; and what follows stays exact.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class AutoRefreshChoiceIT {
    private static final String QUERY = "SELECT g, count(*) AS n, sum(v) AS s FROM readings GROUP BY g";
    private static final String LATEST = "SELECT action || '/' || coalesce(window_rows::text, 'no window')"
            + " FROM pgtrickle.pgt_refresh_history WHERE pgt_name = 'reading_totals' ORDER BY refresh_id DESC LIMIT 1";

    private final TestDatabase db;

    AutoRefreshChoiceIT(TestDatabase db) {
        this.db = db;
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void aWindowPredictedDearerThanFullRefreshesFullWithoutReadingItAndSmallOnesStayDifferential(CdcMode mode)
            throws SQLException {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            db.execute("DROP TABLE IF EXISTS readings CASCADE",
                    "CREATE TABLE readings (id int PRIMARY KEY, g int NOT NULL, v int NOT NULL)",
                    "INSERT INTO readings SELECT i, i % 7, i FROM generate_series(1, 20000) i",
                    "ANALYZE readings");
            api.create(StreamTableSpec.parse("reading_totals", QUERY, "1h", "AUTO"));

            // Every row updated: 40,000 changes, predicted at the assumed cost per change (no differential
            // refresh has measured one yet) far above the FULL refresh that populated the table.
            db.execute("UPDATE readings SET v = v + 1");
            // The estimate counts what is buffered: under WAL capture, let the ingester catch up first
            // (a scheduled refresh usually finds it so).
            awaitBuffered(engine);
            assertThat(api.refresh("reading_totals").action()).isEqualTo("FULL");
            assertThat(db.value(LATEST)).isEqualTo("FULL/no window");
            assertThat(db.multisetDifference(QUERY, "SELECT g, n, s FROM reading_totals")).isEmpty();

            // A few changes: differential again, from the state the FULL refresh rebuilt, and exact.
            db.execute("UPDATE readings SET v = 0 WHERE id <= 5", "DELETE FROM readings WHERE id BETWEEN 6 AND 9",
                    "INSERT INTO readings VALUES (20001, 3, 50)");
            assertThat(api.refresh("reading_totals").action()).isEqualTo("DIFFERENTIAL");
            assertThat(db.value(LATEST)).isEqualTo("DIFFERENTIAL/15");
            assertThat(db.multisetDifference(QUERY, "SELECT g, n, s FROM reading_totals")).isEmpty();

            // Large again: now counted only up to the size the first decision would have gone FULL at.
            db.execute("UPDATE readings SET v = v + 2");
            awaitBuffered(engine);
            assertThat(api.refresh("reading_totals").action()).isEqualTo("FULL");
            assertThat(db.multisetDifference(QUERY, "SELECT g, n, s FROM reading_totals")).isEmpty();
            // Below that size the window is counted whole, and refreshed differentially.
            db.execute("UPDATE readings SET v = v - 1 WHERE id BETWEEN 10 AND 159");
            awaitBuffered(engine);
            assertThat(api.refresh("reading_totals").action()).isEqualTo("DIFFERENTIAL");
            assertThat(db.value(LATEST)).isEqualTo("DIFFERENTIAL/300");
            assertThat(db.multisetDifference(QUERY, "SELECT g, n, s FROM reading_totals")).isEmpty();
        }
    }

    private void awaitBuffered(PgTrickleEngine engine) throws SQLException {
        try (Connection c = engine.dataSource().getConnection()) {
            engine.capture().awaitBuffered(engine.capture().sources().all(c),
                    (String) db.value("SELECT pg_current_wal_insert_lsn()::text"));
        }
    }
}
