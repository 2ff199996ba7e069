package io.pgtrickle.core.immediate;

import static io.pgtrickle.core.immediate.ImmediateModeIT.differences;
import static io.pgtrickle.core.immediate.ImmediateModeIT.run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Schema changes under IMMEDIATE stream tables, in the DDL's own transaction: partitions created,
 * attached, detached and dropped keep the stream tables exact (rows that came in or left with a
 * partition recompute them, and statements on a new partition fire the triggers); a rename or
 * drop of a column the triggers read, or a rename of a source, is refused with the fix, and
 * loses nothing.
 */
@ExtendWith(PostgresExtension.class)
class ImmediateSchemaChangesIT {
    private static final Map<String, String> QUERIES = Map.of(
            "sc_by_region", "SELECT region, count(*) AS n, sum(amount) AS total FROM orders GROUP BY region",
            "sc_joined", "SELECT o.id, o.amount, r.label FROM orders o JOIN regions r ON r.region = o.region");

    private static void schema(TestDatabase db) {
        db.execute("DROP TABLE IF EXISTS orders, regions, p_af CASCADE",
                "CREATE TABLE regions (region text PRIMARY KEY, label text NOT NULL)",
                "INSERT INTO regions VALUES ('eu', 'Europe'), ('us', 'America'), ('asia', 'Asia'), ('af', 'Africa')",
                "CREATE TABLE orders (id int, region text NOT NULL, amount numeric NOT NULL, note text)"
                        + " PARTITION BY LIST (region)",
                "CREATE TABLE p_eu PARTITION OF orders FOR VALUES IN ('eu')",
                "CREATE TABLE p_us PARTITION OF orders FOR VALUES IN ('us')",
                "INSERT INTO orders SELECT g, CASE WHEN g % 2 = 0 THEN 'eu' ELSE 'us' END, g, NULL FROM generate_series(1, 20) g");
    }

    private static void create(StreamTables api) {
        EngineFixture.dropAllStreamTables(api);
        QUERIES.forEach((name, query) -> api.create(StreamTableSpec.parse(name, query, "1m", "IMMEDIATE")));
    }

    private static void assertExact(Connection c, String when) throws SQLException {
        List<String> diff = new ArrayList<>();
        for (Map.Entry<String, String> st : QUERIES.entrySet()) {
            diff.addAll(differences(c, st.getKey(), st.getValue()));
        }
        assertThat(diff).as(when).isEmpty();
    }

    @Test
    void partitionsCreatedAttachedDetachedAndDroppedKeepItExact(TestDatabase db) throws Exception {
        schema(db);
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection c = db.connect()) {
            create(engine.streamTables());
            run(c, "CREATE TABLE p_asia PARTITION OF orders FOR VALUES IN ('asia')");
            run(c, "INSERT INTO p_asia VALUES (100, 'asia', 7, NULL)"); // the new partition, named directly
            run(c, "INSERT INTO orders VALUES (101, 'asia', 8, NULL)");
            assertExact(c, "after a partition was created and written");

            run(c, "CREATE TABLE p_af (LIKE orders)");
            run(c, "INSERT INTO p_af VALUES (200, 'af', 50, NULL), (201, 'af', 60, NULL)");
            run(c, "ALTER TABLE orders ATTACH PARTITION p_af FOR VALUES IN ('af')");
            assertExact(c, "after a partition with rows was attached");
            run(c, "UPDATE p_af SET amount = amount + 1 WHERE id = 200");
            assertExact(c, "after a write to the attached partition");

            run(c, "ALTER TABLE orders DETACH PARTITION p_eu");
            assertExact(c, "after a partition was detached");
            run(c, "INSERT INTO p_eu VALUES (300, 'eu', 1000, NULL)"); // no longer a source
            assertExact(c, "after a write to the detached table");
            assertThat(db.value("SELECT count(*) FROM sc_by_region WHERE region = 'eu'")).isEqualTo(0L);

            run(c, "DROP TABLE p_us");
            assertExact(c, "after a partition was dropped");
            run(c, "INSERT INTO orders VALUES (400, 'af', 5, NULL)");
            assertExact(c, "after a write through the parent");
        }
    }

    @Test
    void renamingOrDroppingAColumnTheTriggersReadIsRefusedWithTheFix(TestDatabase db) throws Exception {
        schema(db);
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection c = db.connect()) {
            create(engine.streamTables());
            for (String ddl : List.of("ALTER TABLE orders RENAME COLUMN amount TO amt", "ALTER TABLE orders DROP COLUMN amount",
                    "ALTER TABLE regions RENAME COLUMN label TO name", "ALTER TABLE regions RENAME TO areas")) {
                assertThatThrownBy(() -> run(c, ddl)).as(ddl).isInstanceOf(SQLException.class)
                        .hasMessageContaining("IMMEDIATE stream table public.sc_")
                        .hasMessageContaining("refresh_mode => 'DIFFERENTIAL'")
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("0A000"));
            }
            // nothing changed: writers go on and the stream tables stay exact
            run(c, "INSERT INTO orders VALUES (500, 'eu', 3, NULL)");
            assertExact(c, "after the refused changes");
            // a column no trigger reads may go
            run(c, "ALTER TABLE orders DROP COLUMN note");
            run(c, "INSERT INTO orders VALUES (501, 'us', 4)");
            assertExact(c, "after an unread column was dropped");
            // DIFFERENTIAL first, as the hint says: then the rename is allowed
            engine.streamTables().alter("sc_joined", io.pgtrickle.core.lifecycle.AlterSpec.none().withRefreshMode("DIFFERENTIAL"));
            run(c, "ALTER TABLE regions RENAME COLUMN label TO name");
        }
    }
}
