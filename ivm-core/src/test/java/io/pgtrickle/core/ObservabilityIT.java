package io.pgtrickle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** sla_summary() and stream_table_lineage(). */
@ExtendWith(PostgresExtension.class)
class ObservabilityIT {
    @Test
    void slaSummaryCountsRefreshesAndFailuresWithPercentiles(TestDatabase db) {
        db.execute("CREATE TABLE sla_src (k int, v int)", "INSERT INTO sla_src VALUES (1, 1), (2, 2)",
                "CREATE TABLE sla_gone (x int)");
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            api.create(StreamTableSpec.parse("sla_sums", "SELECT k, sum(v) AS s FROM sla_src GROUP BY k", "calculated", null));
            api.create(StreamTableSpec.of("sla_broken", "SELECT x FROM sla_gone"));
            for (int i = 0; i < 3; i++) {
                db.execute("INSERT INTO sla_src VALUES (" + (10 + i) + ", 1)");
                api.refresh("sla_sums");
            }
            db.execute("DROP TABLE sla_gone");
            assertThatThrownBy(() -> api.refresh("sla_broken")).hasMessageContaining("does not exist");

            // create + 3 manual refreshes; the broken one: create + 1 failed refresh
            assertThat(db.rows("SELECT name, refreshes, failures, p50_refresh_ms <= p99_refresh_ms,"
                    + " p50_staleness_s <= p99_staleness_s, current_staleness_s >= 0"
                    + " FROM pgtrickle.sla_summary('1 hour') ORDER BY 1")).containsExactly(
                    List.of("public.sla_broken", 2L, 1L, true, true, true),
                    List.of("public.sla_sums", 4L, 0L, true, true, true));
            assertThat(db.value("SELECT refreshes FROM pgtrickle.sla_summary() WHERE name = 'public.sla_sums'"))
                    .isEqualTo(4L);
            // Staleness samples: the gaps between the 4 successful refreshes and the current staleness.
            assertThat((Double) db.value("SELECT p99_staleness_s FROM pgtrickle.sla_summary('1 hour')"
                    + " WHERE name = 'public.sla_sums'")).isBetween(0.0, 600.0);

            assertThatThrownBy(() -> db.value("SELECT * FROM pgtrickle.sla_summary(NULL)"))
                    .hasMessageContaining("invalid sla_summary window NULL");
            assertThatThrownBy(() -> db.value("SELECT * FROM pgtrickle.sla_summary('-5 minutes')"))
                    .hasMessageContaining("invalid sla_summary window -00:05:00");
            EngineFixture.dropAllStreamTables(api);
        }
    }

    @Test
    void lineageFollowsExpressionsAggregatesJoinsStarsAndStreamTables(TestDatabase db) {
        db.execute("CREATE TABLE lin_customers (id int PRIMARY KEY, name text, region text)",
                "CREATE TABLE lin_orders (id int PRIMARY KEY, customer_id int, amount numeric, qty int)",
                "INSERT INTO lin_customers VALUES (1, 'Ada', 'eu')", "INSERT INTO lin_orders VALUES (1, 1, 2.5, 2)");
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            api.create(StreamTableSpec.of("lin_totals", "SELECT c.name AS customer, sum(o.amount * o.qty) AS revenue,"
                    + " count(*) AS orders, upper(region) || '!' AS region"
                    + " FROM lin_customers c JOIN lin_orders o ON o.customer_id = c.id GROUP BY c.name, c.region"));
            assertThat(lineage(db, "lin_totals")).containsExactly(
                    row("customer", "public", "lin_customers", "name"),
                    row("revenue", "public", "lin_orders", "amount"),
                    row("revenue", "public", "lin_orders", "qty"),
                    row("orders", null, null, null),
                    row("region", "public", "lin_customers", "region"));

            api.create(StreamTableSpec.of("lin_star", "SELECT * FROM (SELECT id, amount * 2 AS doubled FROM lin_orders) s"));
            assertThat(lineage(db, "public.lin_star")).containsExactly(
                    row("id", "public", "lin_orders", "id"), row("doubled", "public", "lin_orders", "amount"));

            // A stream table read by another is a source like a table: its own columns, not theirs.
            api.create(StreamTableSpec.of("lin_top", "SELECT t.customer, revenue FROM lin_totals t WHERE orders > 0"));
            assertThat(lineage(db, "lin_top")).containsExactly(
                    row("customer", "public", "lin_totals", "customer"), row("revenue", "public", "lin_totals", "revenue"));

            api.create(StreamTableSpec.of("lin_all", "SELECT o.*, c.name FROM lin_orders o, lin_customers c"
                    + " WHERE c.id = o.customer_id"));
            assertThat(lineage(db, "lin_all")).containsExactly(
                    row("id", "public", "lin_orders", "id"), row("customer_id", "public", "lin_orders", "customer_id"),
                    row("amount", "public", "lin_orders", "amount"), row("qty", "public", "lin_orders", "qty"),
                    row("name", "public", "lin_customers", "name"));

            // Set operations merge their branches; a scalar subquery gives what it returns; a USING
            // column comes from both sides; a view is a source in its own right.
            db.execute("CREATE VIEW lin_eu AS SELECT id, name FROM lin_customers WHERE region = 'eu'");
            api.create(StreamTableSpec.of("lin_mixed", "SELECT id AS k, name,"
                    + " (SELECT max(amount) FROM lin_orders o WHERE o.customer_id = c.id) AS top FROM lin_customers c"
                    + " UNION ALL SELECT v.id, v.name, 0 FROM lin_eu v JOIN lin_customers USING (id, name)"));
            assertThat(lineage(db, "lin_mixed")).containsExactly(
                    row("k", "public", "lin_customers", "id"), row("k", "public", "lin_eu", "id"),
                    row("name", "public", "lin_customers", "name"), row("name", "public", "lin_eu", "name"),
                    row("top", "public", "lin_orders", "amount"));

            // A set-returning function's columns have no source table; the rest still resolves.
            api.create(StreamTableSpec.of("lin_series", "SELECT o.id, g.x FROM lin_orders o, generate_series(1, 3) AS g(x)"));
            assertThat(lineage(db, "lin_series")).containsExactly(
                    row("id", "public", "lin_orders", "id"), row("x", null, null, null));

            // Altering the query re-computes the lineage.
            api.alter("lin_star", AlterSpec.none().withQuery(
                    "WITH big AS (SELECT customer_id AS cid, amount FROM lin_orders) SELECT cid, max(amount) AS top"
                            + " FROM big GROUP BY cid"));
            assertThat(lineage(db, "lin_star")).containsExactly(
                    row("cid", "public", "lin_orders", "customer_id"), row("top", "public", "lin_orders", "amount"));

            assertThatThrownBy(() -> db.rows("SELECT * FROM pgtrickle.stream_table_lineage('no_such')"))
                    .hasMessageContaining("stream table public.no_such does not exist");

            api.drop("lin_top");
            api.drop("lin_totals");
            assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_lineage l JOIN pgtrickle.pgt_stream_tables s"
                    + " USING (pgt_id) WHERE s.pgt_name = 'lin_totals'")).isEqualTo(0L);
            EngineFixture.dropAllStreamTables(api);
        }
    }

    private static List<List<Object>> lineage(TestDatabase db, String name) {
        return db.rows("SELECT * FROM pgtrickle.stream_table_lineage(?)", name);
    }

    private static List<Object> row(String output, String schema, String table, String column) {
        return Arrays.asList(output, schema, table, column);
    }
}
