package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A partitioned table as a source: the user's statements on the root and on each partition keep
 * working while it is tracked, and every stream table reading the root, a partition or a
 * sub-partitioned partition stays equal to its query through row movement, partitions created,
 * attached (with rows) and detached later, and a TRUNCATE of one partition.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class PartitionedSourceIT {
    /** Stream table → its defining query (selecting its columns in the same order). */
    private static final Map<String, String> QUERIES = new LinkedHashMap<>();
    private static final Map<String, String> MODES = new LinkedHashMap<>();

    static {
        define("orders_big", "SELECT id, k, region, amount FROM orders WHERE amount > 10", "DIFFERENTIAL");
        define("orders_by_region", "SELECT region, sum(amount) AS total, count(*) AS n FROM orders GROUP BY region",
                "DIFFERENTIAL");
        define("orders_distinct", "SELECT DISTINCT region FROM orders", "DIFFERENTIAL");
        define("orders_full", "SELECT region, count(*) AS n FROM orders GROUP BY region", "FULL");
        define("low_direct", "SELECT id, amount FROM o_low", "DIFFERENTIAL");
        define("high_direct", "SELECT id, region, amount FROM o_high", "DIFFERENTIAL");
        define("high_eu_direct", "SELECT id, amount FROM o_high_eu", "DIFFERENTIAL");
    }

    private static void define(String name, String query, String mode) {
        QUERIES.put(name, query);
        MODES.put(name, mode);
    }

    private final TestDatabase db;

    PartitionedSourceIT(TestDatabase db) {
        this.db = db;
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void everyStreamTableOverThePartitionTreeEqualsItsQueryThroughDmlAndPartitionChanges(CdcMode mode) {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            db.execute("DROP TABLE IF EXISTS orders, o_low, o_extra, o_solo CASCADE",
                    // No primary key: the tables' replica identity is then nothing but what capture sets.
                    "CREATE TABLE orders (id int NOT NULL, k int NOT NULL, region text NOT NULL, amount int)"
                            + " PARTITION BY RANGE (k)",
                    "CREATE TABLE o_low PARTITION OF orders FOR VALUES FROM (0) TO (100)",
                    "CREATE TABLE o_high PARTITION OF orders FOR VALUES FROM (100) TO (200) PARTITION BY LIST (region)",
                    "CREATE TABLE o_high_eu PARTITION OF o_high FOR VALUES IN ('eu')",
                    "CREATE TABLE o_high_rest PARTITION OF o_high DEFAULT",
                    "INSERT INTO orders VALUES (1, 10, 'eu', 5), (2, 20, 'us', 50), (3, 110, 'eu', 70),"
                            + " (4, 120, 'us', 8), (5, 130, 'asia', 30)");
            for (var st : QUERIES.entrySet()) {
                api.create(StreamTableSpec.parse(st.getKey(), st.getValue(), "1h", MODES.get(st.getKey())));
            }
            if (mode == CdcMode.WAL) {
                assertThat(db.value("SELECT string_agg(relname || ':' || relreplident::text, ',' ORDER BY relname) FROM pg_class"
                        + " WHERE relname IN ('o_low', 'o_high_eu', 'o_high_rest')"))
                        .isEqualTo("o_high_eu:f,o_high_rest:f,o_low:f");
            }

            // Through the root: inserts, updates, a row moving to another partition, a delete.
            db.execute("INSERT INTO orders VALUES (6, 40, 'eu', 12), (7, 150, 'eu', 3)",
                    "UPDATE orders SET amount = amount + 10 WHERE region = 'us'",
                    "UPDATE orders SET k = 140 WHERE id = 2",
                    "DELETE FROM orders WHERE id = 5");
            refreshAndCheck(api, "DML through the root");
            assertThat(db.value("SELECT string_agg(id::text, ',' ORDER BY id) FROM high_direct")).isEqualTo("2,3,4,7");
            assertThat(db.value("SELECT string_agg(id::text, ',' ORDER BY id) FROM low_direct")).isEqualTo("1,6");

            // Directly on partitions, and a row moving between the sub-partitions of a partition.
            db.execute("INSERT INTO o_low VALUES (8, 50, 'us', 44)",
                    "UPDATE o_high_eu SET amount = amount * 2",
                    "DELETE FROM o_high_rest WHERE id = 4",
                    "UPDATE o_high SET region = 'eu' WHERE id = 2",
                    "UPDATE o_low SET amount = NULL WHERE id = 1");
            refreshAndCheck(api, "DML on partitions");
            assertThat(db.value("SELECT string_agg(id || ':' || amount, ',' ORDER BY id) FROM high_eu_direct"))
                    .isEqualTo("2:60,3:140,7:6");

            // A partition created after tracking: its very first UPDATE and DELETE must work.
            db.execute("CREATE TABLE o_mid PARTITION OF orders FOR VALUES FROM (200) TO (300)",
                    "INSERT INTO o_mid VALUES (9, 250, 'eu', 90), (10, 260, 'us', 1)",
                    "UPDATE o_mid SET amount = amount + 1",
                    "DELETE FROM o_mid WHERE id = 10",
                    "INSERT INTO orders VALUES (11, 270, 'asia', 15)");
            refreshAndCheck(api, "partition created later");
            assertThat(db.value("SELECT total FROM orders_by_region WHERE region = 'asia'")).isEqualTo(15L);

            // A table with rows attached later: its rows join the root without any DML.
            db.execute("CREATE TABLE o_extra (id int NOT NULL, k int NOT NULL, region text NOT NULL, amount int)",
                    "INSERT INTO o_extra VALUES (12, 310, 'eu', 100), (13, 320, 'mars', 20)",
                    "ALTER TABLE orders ATTACH PARTITION o_extra FOR VALUES FROM (300) TO (400)");
            refreshAndCheck(api, "partition attached with rows");
            assertThat(db.value("SELECT n FROM orders_full WHERE region = 'mars'")).isEqualTo(1L);
            db.execute("UPDATE o_extra SET amount = 21 WHERE id = 13", "DELETE FROM o_extra WHERE id = 12");
            refreshAndCheck(api, "DML on the attached partition");

            // Detached: its rows leave the root; a stream table reading it directly keeps following it.
            db.execute("ALTER TABLE orders DETACH PARTITION o_low");
            refreshAndCheck(api, "partition detached");
            db.execute("UPDATE o_low SET amount = 1000 WHERE id = 8", "INSERT INTO o_low VALUES (14, 1, 'eu', 77)");
            refreshAndCheck(api, "DML on the detached table");
            assertThat(db.value("SELECT count(*) FROM orders_big WHERE id IN (8, 14)")).isEqualTo(0L);
            assertThat(db.value("SELECT string_agg(id || ':' || coalesce(amount, -1), ',' ORDER BY id) FROM low_direct"))
                    .isEqualTo("1:-1,6:12,8:1000,14:77");

            // A partition dropped, another detached concurrently (two transactions): their rows leave too.
            db.execute("DROP TABLE o_mid", "ALTER TABLE orders DETACH PARTITION o_extra CONCURRENTLY");
            refreshAndCheck(api, "partition dropped and one detached concurrently");
            assertThat(db.value("SELECT count(*) FROM orders_full WHERE region IN ('mars', 'asia')")).isEqualTo(0L);

            // TRUNCATE of one partition, then more rows through the root.
            db.execute("TRUNCATE o_high_eu", "INSERT INTO orders VALUES (15, 160, 'eu', 11)");
            refreshAndCheck(api, "TRUNCATE of one partition");
            assertThat(db.value("SELECT string_agg(id::text, ',' ORDER BY id) FROM high_eu_direct")).isEqualTo("15");
        }
    }

    /**
     * A foreign-table partition's changes cannot be captured: DIFFERENTIAL is refused naming it,
     * AUTO is FULL, and an AUTO stream table whose root gains one later turns FULL (one that asked for
     * DIFFERENTIAL fails its refresh naming the member).
     */
    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void aForeignTablePartitionMakesTheRootsReadersFull(CdcMode mode) {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            String port = db.jdbcUrl().replaceFirst("^jdbc:postgresql://[^:/]+:(\\d+)/.*$", "$1");
            db.execute("DROP TABLE IF EXISTS fo, fo_remote_data CASCADE", "CREATE EXTENSION IF NOT EXISTS postgres_fdw",
                    "DROP SERVER IF EXISTS loopback CASCADE",
                    "CREATE SERVER loopback FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host 'localhost', port '" + port
                            + "', dbname '" + db.name() + "')",
                    "CREATE USER MAPPING FOR CURRENT_USER SERVER loopback OPTIONS (user 'postgres')",
                    "CREATE TABLE fo_remote_data (id int, k int)", "INSERT INTO fo_remote_data VALUES (100, 150)",
                    "CREATE TABLE fo (id int, k int) PARTITION BY RANGE (k)",
                    "CREATE TABLE fo_local PARTITION OF fo FOR VALUES FROM (0) TO (100)",
                    "INSERT INTO fo VALUES (1, 1)");
            api.create(StreamTableSpec.parse("fo_ids", "SELECT id FROM fo", "1h", "AUTO"));
            api.create(StreamTableSpec.parse("fo_strict", "SELECT id FROM fo", "1h", "DIFFERENTIAL"));
            assertThat(api.require(io.pgtrickle.core.sql.QualifiedName.parse("fo_ids")).effectiveMode().name())
                    .isEqualTo("DIFFERENTIAL");

            db.execute("CREATE FOREIGN TABLE fo_remote PARTITION OF fo FOR VALUES FROM (100) TO (200) SERVER loopback"
                    + " OPTIONS (table_name 'fo_remote_data')", "INSERT INTO fo_remote_data VALUES (101, 160)");
            // Asked for DIFFERENTIAL explicitly: the refresh fails naming the reason instead of hiding it in FULL.
            assertThatThrownBy(() -> api.refresh("fo_strict")).hasMessageContaining("fo_remote")
                    .hasMessageContaining("use refresh mode AUTO or FULL");
            api.refresh("fo_ids");
            assertThat(db.multisetDifference("SELECT id FROM fo", "SELECT id FROM fo_ids")).isEmpty();
            assertThat(db.value("SELECT string_agg(id::text, ',' ORDER BY id) FROM fo_ids")).isEqualTo("1,100,101");
            db.execute("INSERT INTO fo_remote_data VALUES (102, 170)");
            api.refresh("fo_ids");
            assertThat(db.value("SELECT string_agg(id::text, ',' ORDER BY id) FROM fo_ids")).isEqualTo("1,100,101,102");
            assertThat(api.require(io.pgtrickle.core.sql.QualifiedName.parse("fo_ids")).effectiveMode().name())
                    .isEqualTo("FULL");

            assertThatThrownBy(() -> api.create(StreamTableSpec.parse("fo_diff", "SELECT id FROM fo", "1h", "DIFFERENTIAL")))
                    .hasMessageContaining("fo_remote").hasMessageContaining("use refresh mode AUTO or FULL");
            api.create(StreamTableSpec.parse("fo_auto", "SELECT id FROM fo", "1h", "AUTO"));
            assertThat(api.require(io.pgtrickle.core.sql.QualifiedName.parse("fo_auto")).modeReason())
                    .contains("foreign-table");
        }
    }

    private void refreshAndCheck(StreamTables api, String step) {
        for (var st : QUERIES.entrySet()) {
            api.refresh(st.getKey());
            String columns = String.join(", ", db.rows("SELECT attname FROM pg_attribute WHERE attrelid = ?::regclass"
                    + " AND attnum > 0 AND NOT attisdropped AND attname NOT LIKE '\\_\\_pgt\\_%' ORDER BY attnum",
                    st.getKey()).stream().map(r -> (String) r.get(0)).toList());
            assertThat(db.multisetDifference(st.getValue(), "SELECT " + columns + " FROM " + st.getKey()))
                    .as("%s after %s", st.getKey(), step).isEmpty();
        }
    }
}
