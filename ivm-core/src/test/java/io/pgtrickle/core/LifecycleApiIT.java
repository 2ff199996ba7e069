package io.pgtrickle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.lifecycle.CreateOutcome;
import io.pgtrickle.core.lifecycle.RefreshMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.refresh.RefreshResult;
import io.pgtrickle.core.schedule.Schedule;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Java lifecycle API against a real PostgreSQL 18. */
@ExtendWith(PostgresExtension.class)
class LifecycleApiIT {
    private static PgTrickleEngine engine;
    private static StreamTables api;
    private final TestDatabase db;

    LifecycleApiIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void open(TestDatabase db) {
        engine = EngineFixture.open(db);
        api = engine.streamTables();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @BeforeEach
    void schema() {
        EngineFixture.dropAllStreamTables(api);
        db.execute("TRUNCATE pgtrickle.pgt_refresh_history",
                "DROP TABLE IF EXISTS orders, customers CASCADE",
                "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, region text)",
                "CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, "
                        + "amount numeric(10,2) NOT NULL, placed_at timestamptz NOT NULL DEFAULT now())",
                "INSERT INTO customers VALUES (1, 'Ada', 'north'), (2, 'Bob', 'south'), (3, 'Cy', NULL)",
                "INSERT INTO orders (id, customer_id, amount) VALUES (1, 1, 10.50), (2, 1, 20.25), (3, 2, 5.00)");
    }

    @Test
    void createMakesStorageTableWithTheQueryTypesAndHiddenRowId() {
        StreamTableRecord st = api.create(StreamTableSpec.of("order_totals",
                "SELECT c.name, c.region, sum(o.amount) AS total, max(o.placed_at) AS last_at, count(*) AS n "
                        + "FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name, c.region"));

        assertThat(st.effectiveMode()).isEqualTo(RefreshMode.DIFFERENTIAL);
        assertThat(st.modeReason()).isNull();
        assertThat(db.rows("SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
                + "WHERE attrelid = 'order_totals'::regclass AND attnum > 0 ORDER BY attnum")).containsExactly(
                List.of("name", "text"), List.of("region", "text"), List.of("total", "numeric"),
                List.of("last_at", "timestamp with time zone"), List.of("n", "bigint"),
                List.of("__pgt_row_id", "uuid"), List.of("__pgt_h", "uuid"));
        assertThat(db.value("SELECT count(*) FROM pg_index WHERE indrelid = 'order_totals'::regclass AND indisunique"))
                .isEqualTo(1L);
        assertThat(db.multisetDifference("SELECT name, region, total, last_at, n FROM order_totals",
                st.query())).isEmpty();
        assertThat(db.rows("SELECT source_name, source_kind FROM pgtrickle.pgt_dependencies ORDER BY 1"))
                .containsExactly(List.of("customers", "TABLE"), List.of("orders", "TABLE"));
        assertThat(db.rows("SELECT action, trigger, status, rows_inserted FROM pgtrickle.pgt_refresh_history"))
                .containsExactly(List.of("FULL", "CREATE", "SUCCESS", 2L));
    }

    @Test
    void typmodsAndCollationsAreKeptExactly() {
        api.create(StreamTableSpec.of("typed", "SELECT amount, amount::numeric(12,3) AS a3, "
                + "name COLLATE \"C\" AS cname, name::varchar(20) AS v20 FROM orders JOIN customers ON customers.id = customer_id"));

        assertThat(db.rows("SELECT attname, format_type(atttypid, atttypmod), attcollation <> 0 "
                + "AND attcollation = 'pg_catalog.\"C\"'::regcollation FROM pg_attribute WHERE attrelid = 'typed'::regclass "
                + "AND attnum > 0 AND attname NOT LIKE '\\_\\_pgt%' ORDER BY attnum")).containsExactly(
                List.of("amount", "numeric(10,2)", false), List.of("a3", "numeric(12,3)", false),
                List.of("cname", "text", true), List.of("v20", "character varying(20)", false));
    }

    @Test
    void fullRefreshFollowsInsertsUpdatesAndDeletes() {
        StreamTableRecord st = api.create(StreamTableSpec.of("big_orders",
                "SELECT id, customer_id, amount FROM orders WHERE amount > 6"));
        db.execute("INSERT INTO orders (id, customer_id, amount) VALUES (4, 3, 99)",
                "UPDATE orders SET amount = 1 WHERE id = 1",
                "DELETE FROM orders WHERE id = 2");

        RefreshResult result = api.refresh("big_orders");

        assertThat(result.rowsInserted()).isEqualTo(1);
        assertThat(result.rowsDeleted()).isEqualTo(2);
        assertThat(db.rows("SELECT id, amount FROM big_orders ORDER BY id"))
                .containsExactly(List.of(4, new java.math.BigDecimal("99.00")));
        assertThat(db.multisetDifference("SELECT id, customer_id, amount FROM big_orders", st.query())).isEmpty();
    }

    @Test
    void refreshWithoutChangesRewritesNoRow() {
        api.create(StreamTableSpec.of("all_orders", "SELECT id, amount FROM orders"));
        Object xminsBefore = db.value("SELECT string_agg(xmin::text, ',' ORDER BY id) FROM all_orders");

        RefreshResult result = api.refresh("all_orders");

        assertThat(result.rowsInserted()).isZero();
        assertThat(result.rowsDeleted()).isZero();
        assertThat(db.value("SELECT string_agg(xmin::text, ',' ORDER BY id) FROM all_orders")).isEqualTo(xminsBefore);
    }

    @Test
    void duplicateRowsAreKeptWithTheirMultiplicity() {
        db.execute("INSERT INTO orders (id, customer_id, amount) VALUES (10, 1, 10.50), (11, 1, 10.50)");
        api.create(StreamTableSpec.of("amounts", "SELECT customer_id, amount FROM orders"));
        assertThat(db.value("SELECT count(*) FROM amounts WHERE amount = 10.50")).isEqualTo(3L);

        db.execute("DELETE FROM orders WHERE id = 10");
        RefreshResult result = api.refresh("amounts");

        assertThat(result.rowsDeleted()).isEqualTo(1);
        assertThat(result.rowsInserted()).isZero();
        assertThat(db.value("SELECT count(*) FROM amounts WHERE amount = 10.50")).isEqualTo(2L);
        assertThat(db.multisetDifference("SELECT customer_id, amount FROM amounts",
                "SELECT customer_id, amount FROM orders")).isEmpty();
    }

    @Test
    void createOrReplaceIsANoOpWhenIdenticalAndMigratesInPlaceWhenChanged() {
        StreamTableSpec spec = StreamTableSpec.of("per_customer",
                "SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id");
        assertThat(api.createOrReplace(spec)).isEqualTo(CreateOutcome.CREATED);
        Object oid = db.value("SELECT 'per_customer'::regclass::oid");
        db.execute("CREATE INDEX per_customer_cid ON per_customer (customer_id)");

        assertThat(api.createOrReplace(spec)).isEqualTo(CreateOutcome.UNCHANGED);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_refresh_history")).isEqualTo(1L);

        StreamTableSpec changed = StreamTableSpec.of("per_customer",
                "SELECT customer_id, count(*) AS n, sum(amount) AS total FROM orders GROUP BY customer_id")
                .withSchedule("5m");
        assertThat(api.createOrReplace(changed)).isEqualTo(CreateOutcome.REPLACED);

        assertThat(db.value("SELECT 'per_customer'::regclass::oid")).isEqualTo(oid);
        assertThat(db.value("SELECT count(*) FROM pg_indexes WHERE indexname = 'per_customer_cid'")).isEqualTo(1L);
        assertThat(db.multisetDifference("SELECT customer_id, n, total FROM per_customer", changed.query())).isEmpty();
        assertThat(api.require(changed.name()).schedule()).isEqualTo(new Schedule.Every(Duration.ofMinutes(5)));
    }

    @Test
    void alterChangesScheduleModeAndQuery() {
        api.create(StreamTableSpec.of("regions", "SELECT DISTINCT region FROM customers"));

        StreamTableRecord altered = api.alter("regions", AlterSpec.none().withSchedule("calculated")
                .withRefreshMode("FULL").withQuery("SELECT region, count(*) AS n FROM customers GROUP BY region"));

        assertThat(altered.schedule()).isInstanceOf(Schedule.Calculated.class);
        assertThat(altered.refreshMode()).isEqualTo(RefreshMode.FULL);
        assertThat(altered.modeReason()).isNull();
        assertThat(db.multisetDifference("SELECT region, n FROM regions",
                "SELECT region, count(*) FROM customers GROUP BY region")).isEmpty();
        assertThat(db.rows("SELECT trigger FROM pgtrickle.pgt_refresh_history ORDER BY refresh_id"))
                .containsExactly(List.of("CREATE"), List.of("ALTER"));
    }

    @Test
    void aQueryTheCompilerCannotParseIsMaintainedFullWithTheReason() {
        StreamTableRecord st = api.create(StreamTableSpec.of("recent",
                "SELECT id, amount AS due FROM ONLY orders"));

        assertThat(st.effectiveMode()).isEqualTo(RefreshMode.FULL);
        assertThat(st.modeReason()).startsWith("the IVM compiler cannot parse the query");
        db.execute("INSERT INTO orders (id, customer_id, amount) VALUES (9, 2, 1)");
        assertThat(api.refresh("recent").action()).isEqualTo("FULL");
        assertThat(db.multisetDifference("SELECT id, due FROM recent", "SELECT id, amount FROM ONLY orders")).isEmpty();
    }

    @Test
    void renamingAnOutputColumnRefillsItsValues() {
        api.create(StreamTableSpec.of("named", "SELECT id, amount AS a FROM orders"));

        api.alter("named", AlterSpec.none().withQuery("SELECT id, amount AS b FROM orders"));

        assertThat(db.multisetDifference("SELECT id, b FROM named", "SELECT id, amount FROM orders")).isEmpty();
    }

    @Test
    void streamTablesCanReadStreamTables() {
        api.create(StreamTableSpec.of("per_customer",
                "SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id"));
        api.create(StreamTableSpec.of("grand_total", "SELECT sum(total) AS total FROM per_customer"));

        assertThat(db.rows("SELECT source_name, source_kind FROM pgtrickle.pgt_dependencies d "
                + "JOIN pgtrickle.pgt_stream_tables s USING (pgt_id) WHERE s.pgt_name = 'grand_total'"))
                .containsExactly(List.of("per_customer", "STREAM_TABLE"));
        assertThat(db.value("SELECT total FROM grand_total")).isEqualTo(new java.math.BigDecimal("35.75"));
    }

    @Test
    void dropRemovesStorageAndCatalogAndCascadesOnRequest() {
        api.create(StreamTableSpec.of("per_customer",
                "SELECT customer_id, sum(amount) AS total FROM orders GROUP BY customer_id"));
        api.create(StreamTableSpec.of("grand_total", "SELECT sum(total) AS total FROM per_customer"));

        assertThatThrownBy(() -> api.drop("per_customer"))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.HAS_DEPENDANTS))
                .hasMessageContaining("public.grand_total reads it");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(2L);

        api.drop(api.require(io.pgtrickle.core.sql.QualifiedName.parse("per_customer")).name(), true);

        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(0L);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_dependencies")).isEqualTo(0L);
        assertThat(db.value("SELECT to_regclass('per_customer') IS NULL AND to_regclass('grand_total') IS NULL"))
                .isEqualTo(true);
    }
}
