package io.pgtrickle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.outbox.OutboxReplay;
import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.refresh.RefreshResult;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.embedded.EmbeddedPostgresServer;
import io.pgtrickle.embedded.PostgresBinaries;
import io.pgtrickle.testing.TestDatabase;
import java.math.BigDecimal;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The engine on every supported PostgreSQL major version, whatever version the rest of the suite
 * runs against: lifecycle (create, refresh, alter, drop) in both capture modes, with the delta
 * shapes whose MERGEs differ between versions (filter, join, algebraic and rescanned aggregates,
 * outer join, DISTINCT) and a stored generated column (not in pgoutput before 18), exact after
 * every refresh. One server per version, a few seconds each.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class PostgresVersionsCompatibilityIT {
    private static final int[] SUPPORTED = {15, 16, 17, 18};
    private static final Map<Integer, EmbeddedPostgresServer> SERVERS = new LinkedHashMap<>();
    private static final List<TestDatabase> DATABASES = new ArrayList<>();

    /** Differential stream tables: name -> (query, its columns as the stream table has them). */
    private static final Map<String, String[]> SHAPES = new LinkedHashMap<>();

    static {
        SHAPES.put("open_orders", new String[] {"SELECT id, amount FROM orders WHERE status = 'open'", "id, amount"});
        SHAPES.put("order_names", new String[] {"SELECT o.id, c.name, o.amount FROM orders o JOIN customers c"
                + " ON c.id = o.customer_id", "id, name, amount"});
        SHAPES.put("by_customer", new String[] {"SELECT customer_id, count(*) AS n, sum(amount) AS total,"
                + " max(amount) AS top FROM orders GROUP BY customer_id", "customer_id, n, total, top"});
        SHAPES.put("buyers_by_region", new String[] {"SELECT c.region, count(DISTINCT o.customer_id) AS buyers"
                + " FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.region", "region, buyers"});
        SHAPES.put("customer_orders", new String[] {"SELECT c.id, c.name, o.id AS order_id FROM customers c"
                + " LEFT JOIN orders o ON o.customer_id = c.id", "id, name, order_id"});
        SHAPES.put("statuses", new String[] {"SELECT DISTINCT status FROM orders", "status"});
        // A stored generated column: pgoutput sends none before 18, capture recomputes them.
        SHAPES.put("big_orders", new String[] {"SELECT id, cents FROM orders WHERE cents >= 1000", "id, cents"});
    }

    private static final String FULL_QUERY = "SELECT status, sum(amount) AS total FROM orders GROUP BY status";

    static Stream<Arguments> versionsAndModes() {
        return java.util.Arrays.stream(SUPPORTED).boxed()
                .flatMap(v -> Stream.of(Arguments.of(v, CdcMode.WAL), Arguments.of(v, CdcMode.TRIGGER)));
    }

    @ParameterizedTest(name = "PostgreSQL {0}, {1} capture")
    @MethodSource("versionsAndModes")
    void everyShapeStaysExactThroughTheLifecycleOnEverySupportedVersion(int major, CdcMode mode) {
        TestDatabase db = database(major, "compat_" + mode.name().toLowerCase(Locale.ROOT));
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            assertThat(engine.serverCapabilities().major()).isEqualTo(major);
            StreamTables api = engine.streamTables();
            db.execute("CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, region text)",
                    "CREATE TABLE orders (id int PRIMARY KEY, customer_id int, amount numeric(10,2) NOT NULL,"
                            + " status text NOT NULL, cents bigint GENERATED ALWAYS AS ((amount * 100)::bigint) STORED)",
                    "INSERT INTO customers VALUES (1, 'Ada', 'north'), (2, 'Bob', 'south'), (3, 'Cy', NULL)",
                    "INSERT INTO orders VALUES (1, 1, 10.50, 'open'), (2, 1, 20.25, 'paid'), (3, 2, 5.00, 'open')");
            SHAPES.forEach((name, shape) -> api.create(StreamTableSpec.parse(name, shape[0], "1h", "DIFFERENTIAL")));
            api.create(StreamTableSpec.parse("status_totals", FULL_QUERY, "1h", "FULL"));
            // Every stream table publishes its deltas: the MERGE's report of what it changed differs by version.
            SHAPES.keySet().forEach(name -> engine.outboxes().enable(name, 24, 2));
            engine.outboxes().enable("status_totals");
            assertAllExact(db, api);

            // The FULL refresh SQL explain shows is the form this server runs.
            String refreshSql = api.explain(QualifiedName.parse("order_names")).refreshSql();
            if (major >= 17) {
                assertThat(refreshSql).contains("WHEN NOT MATCHED BY SOURCE THEN DELETE", "RETURNING merge_action()");
            } else {
                assertThat(refreshSql).doesNotContain("MERGE", "merge_action").contains("DELETE FROM", "INSERT INTO");
            }

            db.execute("INSERT INTO customers VALUES (4, 'Di', 'north')",
                    "INSERT INTO orders VALUES (4, 4, 7.25, 'open'), (5, 3, 1.00, 'void'), (6, 1, 40.00, 'open')");
            assertAllExact(db, api);
            assertThat(db.value("SELECT total FROM by_customer WHERE customer_id = 1")).isEqualTo(new BigDecimal("70.75"));
            assertThat(db.value("SELECT count(*) FROM statuses")).isEqualTo(3L);

            db.execute("UPDATE orders SET amount = amount + 1, status = 'paid' WHERE id = 6",
                    "UPDATE orders SET customer_id = 2 WHERE id = 1",
                    "UPDATE customers SET name = 'Bea', region = 'north' WHERE id = 2",
                    "UPDATE orders SET status = 'open' WHERE id = 5");
            assertAllExact(db, api);
            assertThat(db.value("SELECT top FROM by_customer WHERE customer_id = 1")).isEqualTo(new BigDecimal("41.00"));
            assertThat(db.value("SELECT cents FROM big_orders WHERE id = 6")).isEqualTo(4100L);
            assertThat(db.value("SELECT buyers FROM buyers_by_region WHERE region = 'north'")).isEqualTo(3L);
            assertThat(db.value("SELECT string_agg(name, ',' ORDER BY id) FROM order_names WHERE id IN (1, 3)"))
                    .isEqualTo("Bea,Bea");

            // The max of a group leaves (a rescan), a group disappears, a status disappears.
            db.execute("DELETE FROM orders WHERE id IN (6, 5)", "DELETE FROM orders WHERE status = 'void'",
                    "DELETE FROM customers WHERE id = 3");
            assertAllExact(db, api);
            assertThat(db.value("SELECT top FROM by_customer WHERE customer_id = 1")).isEqualTo(new BigDecimal("20.25"));
            assertThat(db.value("SELECT count(*) FROM by_customer WHERE customer_id = 3")).isEqualTo(0L);
            assertThat(db.value("SELECT string_agg(status, ',' ORDER BY status) FROM statuses")).isEqualTo("open,paid");

            // Alter: another query, then FULL mode; both keep the stream table exact.
            String altered = "SELECT id, amount FROM orders WHERE status = 'paid'";
            api.alter("open_orders", AlterSpec.none().withQuery(altered));
            db.execute("INSERT INTO orders VALUES (7, 4, 3.00, 'paid')");
            assertExact(db, api, "open_orders", altered, "id, amount", "DIFFERENTIAL");
            api.alter("by_customer", AlterSpec.none().withRefreshMode("FULL"));
            db.execute("UPDATE orders SET amount = 9.99 WHERE id = 7");
            assertExact(db, api, "by_customer", SHAPES.get("by_customer")[0], "customer_id, n, total, top", "FULL");
            assertThat(db.value("SELECT total FROM by_customer WHERE customer_id = 4")).isEqualTo(new BigDecimal("17.24"));

            for (String name : List.copyOf(SHAPES.keySet())) {
                new OutboxReplay().apply(engine.outboxes().read(name, 0, 10_000)).assertReproduces(db, name);
                api.drop(QualifiedName.parse(name), true);
            }
            new OutboxReplay().apply(engine.outboxes().read("status_totals", 0, 10_000)).assertReproduces(db, "status_totals");
            api.drop(QualifiedName.parse("status_totals"), true);
            assertThat(api.list()).isEmpty();
            assertThat(db.value("SELECT to_regclass('order_names') IS NULL")).isEqualTo(true);
        }
    }

    @Test
    void aServerOlderThan15IsRefusedAtEngineStartNamingItsVersionAndInstallsNothing() {
        TestDatabase db = database(14, "compat_too_old");
        assertThatThrownBy(() -> PgTrickleEngine.open(EngineFixture.config(db)))
                .isInstanceOfSatisfying(PgTrickleException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.UNSUPPORTED_SERVER))
                .hasMessageContaining("runs PostgreSQL 14.")
                .hasMessageContaining("needs PostgreSQL 15 or later");
        assertThat(db.value("SELECT to_regnamespace('pgtrickle') IS NULL")).isEqualTo(true);
    }

    private static void assertAllExact(TestDatabase db, StreamTables api) {
        SHAPES.forEach((name, shape) -> assertExact(db, api, name, shape[0], shape[1], "DIFFERENTIAL"));
        assertExact(db, api, "status_totals", FULL_QUERY, "status, total", "FULL");
    }

    private static void assertExact(TestDatabase db, StreamTables api, String name, String query, String columns,
                                    String action) {
        RefreshResult result = api.refresh(name);
        assertThat(result.action()).as("refresh of %s", name).isEqualTo(action);
        assertThat(db.multisetDifference(query, "SELECT " + columns + " FROM " + name)).as(name).isEmpty();
    }

    private static synchronized TestDatabase database(int major, String name) {
        EmbeddedPostgresServer server = SERVERS.computeIfAbsent(major, v -> EmbeddedPostgresServer.start(
                EmbeddedPostgresServer.Options.ephemeral().withBinaries(PostgresBinaries.of(v))));
        TestDatabase db = TestDatabase.create(server, name);
        DATABASES.add(db);
        return db;
    }

    @AfterAll
    static void stopServers() throws SQLException {
        for (TestDatabase db : DATABASES) {
            db.drop();
        }
        SERVERS.values().forEach(EmbeddedPostgresServer::close);
    }
}
