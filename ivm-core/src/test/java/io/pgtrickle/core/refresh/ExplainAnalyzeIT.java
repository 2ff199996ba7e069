package io.pgtrickle.core.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * explain analyze runs the next refresh in a rolled-back transaction: plans with actual rows and
 * buffers, per-phase times, and nothing changed afterwards.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ExplainAnalyzeIT {
    private static final String TOTALS = "SELECT region, sum(amount) AS total, count(*) AS n FROM sales GROUP BY region";
    private static final String BIG_SALES = "SELECT s.id, s.amount, r.manager FROM sales s"
            + " JOIN regions r ON r.region = s.region WHERE s.amount > 5";
    private static final QualifiedName TOTALS_ST = QualifiedName.parse("region_totals");

    private final TestDatabase db;

    ExplainAnalyzeIT(TestDatabase db) {
        this.db = db;
    }

    private void schema(StreamTables api) {
        EngineFixture.dropAllStreamTables(api);
        db.execute("TRUNCATE pgtrickle.pgt_refresh_history, pgtrickle.pgt_requests RESTART IDENTITY",
                "DROP TABLE IF EXISTS sales, regions CASCADE",
                "CREATE TABLE regions (region text PRIMARY KEY, manager text NOT NULL)",
                "INSERT INTO regions VALUES ('north', 'ann'), ('south', 'bob'), ('east', 'cy')",
                "CREATE TABLE sales (id int PRIMARY KEY, region text NOT NULL, amount int NOT NULL)",
                "INSERT INTO sales VALUES (1, 'north', 10), (2, 'north', 5), (3, 'south', 7)");
    }

    /** The stream table's rows, its frontier, its history and every change buffer row of its sources. */
    private List<Object> state(String table) {
        String buffers = db.rows("SELECT buffer_table FROM pgtrickle.pgt_change_sources ORDER BY 1").stream()
                .map(r -> "(SELECT string_agg(b::text, ',' ORDER BY b::text) FROM pgtrickle_changes." + r.get(0) + " b)")
                .reduce((a, b) -> a + " || '|' || " + b).orElse("''");
        return List.of(db.rows("SELECT * FROM " + table + " ORDER BY 1"),
                db.rows("SELECT frontier::text, data_timestamp FROM pgtrickle.pgt_stream_tables ORDER BY pgt_name"),
                db.rows("SELECT count(*) FROM pgtrickle.pgt_refresh_history"),
                db.rows("SELECT " + buffers));
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void differentialAnalysisExplainsTheDeltaOfThePendingWindowAndChangesNothing(CdcMode mode) {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            StreamTables api = engine.streamTables();
            schema(api);
            api.create(StreamTableSpec.parse("region_totals", TOTALS, "1h", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("big_sales", BIG_SALES, "1h", "DIFFERENTIAL"));
            db.execute("INSERT INTO sales VALUES (4, 'east', 8)", "UPDATE sales SET amount = 11 WHERE id = 2",
                    "DELETE FROM sales WHERE id = 3");
            // The analysis reads what the next refresh would: wait until capture has buffered the changes.
            api.explainAnalyze(TOTALS_ST);
            List<Object> totalsBefore = state("region_totals");
            List<Object> joinBefore = state("big_sales");

            RefreshAnalysis totals = api.explainAnalyze(TOTALS_ST);
            RefreshAnalysis join = api.explainAnalyze(QualifiedName.parse("big_sales"));

            for (RefreshAnalysis a : List.of(totals, join)) {
                String text = a.render();
                assertThat(a.action()).as(text).isEqualTo("DIFFERENTIAL");
                assertThat(a.note()).as(text).isNull();
                assertThat(a.windowRows()).as(text).contains("public.sales: 4");
                assertThat(text).contains("actual time=", "Buffers:", "MERGE INTO", "phases (ms)", "\"window_read\"",
                        "\"apply\"", "rolled back");
                assertThat(a.statements()).as(text).anySatisfy(s -> assertThat(s.plan()).contains("actual time="));
                assertThat(a.statements()).allSatisfy(s -> assertThat(s.millis()).isNotNegative());
            }
            // The window's own statements are there: the delta read from the window table.
            assertThat(join.render()).contains("__pgt_window_");
            assertThat(state("region_totals")).isEqualTo(totalsBefore);
            assertThat(state("big_sales")).isEqualTo(joinBefore);
            assertThat(db.multisetDifference("SELECT region, total, n FROM region_totals", TOTALS)).isNotEmpty();

            // The window is still there for the real refresh, which then brings the table up to date.
            assertThat(api.refresh("region_totals").action()).isEqualTo("DIFFERENTIAL");
            assertThat(api.refresh("big_sales").action()).isEqualTo("DIFFERENTIAL");
            assertThat(db.multisetDifference("SELECT region, total, n FROM region_totals", TOTALS)).isEmpty();
            assertThat(db.multisetDifference("SELECT id, amount, manager FROM big_sales", BIG_SALES)).isEmpty();
        }
    }

    @Test
    void anEmptyWindowSaysThereIsNothingToAnalyze() {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db))) {
            StreamTables api = engine.streamTables();
            schema(api);
            api.create(StreamTableSpec.parse("region_totals", TOTALS, "1h", "DIFFERENTIAL"));

            RefreshAnalysis a = api.explainAnalyze(TOTALS_ST);

            assertThat(a.nothingPending()).isTrue();
            assertThat(a.statements()).isEmpty();
            assertThat(a.render()).contains("no pending changes: nothing to analyze; change a source and retry")
                    .doesNotContain("actual time=");
        }
    }

    @Test
    void aFullStreamTableShowsTheFullRefreshAndSaysSo() {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db))) {
            StreamTables api = engine.streamTables();
            schema(api);
            api.create(StreamTableSpec.parse("region_totals", TOTALS, "1h", "FULL"));
            List<Object> before = state("region_totals");

            RefreshAnalysis a = api.explainAnalyze(TOTALS_ST);

            String text = a.render();
            assertThat(a.action()).as(text).isEqualTo("FULL");
            assertThat(a.note()).as(text).contains("refresh mode FULL -> FULL", "EXPLAIN ANALYZE of the full refresh");
            assertThat(text).contains("actual time=", "Seq Scan on sales", "MERGE INTO");
            assertThat(state("region_totals")).isEqualTo(before);
        }
    }

    @Test
    void theSqlFunctionRegistersTheAnalysisAndAwaitRequestReturnsIt() {
        try (PgTrickleEngine engine = EngineFixture.open(db).start()) {
            StreamTables api = engine.streamTables();
            schema(api);
            api.create(StreamTableSpec.parse("region_totals", TOTALS, "1h", "DIFFERENTIAL"));
            db.execute("INSERT INTO sales VALUES (4, 'east', 8)");

            String registered = (String) db.value("SELECT pgtrickle.explain_stream_table('region_totals', \"analyze\" => true)");
            Matcher id = Pattern.compile("request (\\d+);").matcher(registered);
            assertThat(id.find()).as(registered).isTrue();
            String analysis = (String) db.value("SELECT pgtrickle.await_request(?, '30 seconds')", Long.parseLong(id.group(1)));

            assertThat(analysis).contains("explain analyze  public.region_totals", "refresh          DIFFERENTIAL",
                    "actual time=");
            assertThat((String) db.value("SELECT pgtrickle.explain_stream_table('region_totals')"))
                    .contains("stream table  public.region_totals", "delta SQL");
            assertThat((String) db.value("SELECT pgtrickle.explain_stream_table('region_totals', false)"))
                    .contains("stream table  public.region_totals");
            assertThat(db.multisetDifference("SELECT region, total, n FROM region_totals", TOTALS)).isNotEmpty();
        }
    }
}
