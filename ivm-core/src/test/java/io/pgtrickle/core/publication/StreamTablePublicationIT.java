package io.pgtrickle.core.publication;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** A stream table as a logical-replication publication, seen by a pgoutput subscriber. */
@ExtendWith(PostgresExtension.class)
class StreamTablePublicationIT {
    private static final String SLOT = "publication_test";
    private static final String TOTALS =
            "SELECT region, sum(amount) AS total, count(*) AS n FROM orders GROUP BY region";
    private static PgTrickleEngine engine;
    private static StreamTables api;
    private static StreamTablePublications publications;
    private final TestDatabase db;

    StreamTablePublicationIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void open(TestDatabase db) {
        engine = EngineFixture.open(db);
        api = engine.streamTables();
        publications = engine.publications();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @BeforeEach
    void schema() {
        EngineFixture.dropAllStreamTables(api);
        db.execute("DROP TABLE IF EXISTS orders CASCADE", "DROP SCHEMA IF EXISTS other CASCADE",
                "CREATE TABLE orders (id int PRIMARY KEY, region text NOT NULL, amount int NOT NULL)",
                "INSERT INTO orders VALUES (1, 'north', 10), (2, 'north', 5), (3, 'south', 7)");
    }

    @AfterEach
    void dropSlot() {
        db.execute("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = '" + SLOT + "'");
    }

    @Test
    void changesOfTheStreamTableReachASubscriberWithTheUserColumnsAndTheRowIdentity() {
        api.create(StreamTableSpec.of("region_totals", TOTALS));
        assertThat(db.value("SELECT pgtrickle.stream_table_to_publication('region_totals')")).isEqualTo("pgt_pub_region_totals");
        assertThat(publications.find("region_totals")).contains(new Publication("public.region_totals",
                "pgt_pub_region_totals", List.of("region", "total", "n", "__pgt_row_id")));
        db.value("SELECT lsn::text FROM pg_create_logical_replication_slot(?, 'pgoutput')", SLOT);

        db.execute("INSERT INTO orders VALUES (4, 'east', 3)", "UPDATE orders SET amount = amount + 1 WHERE id = 1",
                "DELETE FROM orders WHERE region = 'south'");
        api.refresh("region_totals");
        String southRowId = null;
        PgOutput.Decoded decoded = awaitChanges(3);

        assertThat(decoded.relations()).containsExactly(new PgOutput.Relation("public", "region_totals",
                List.of("region", "total", "n", "__pgt_row_id")));
        assertThat(decoded.changes()).extracting(PgOutput.Change::op).containsExactlyInAnyOrder('I', 'U', 'D');
        for (PgOutput.Change change : decoded.changes()) {
            Map<String, String> v = change.values();
            assertThat(v.keySet()).containsExactly("region", "total", "n", "__pgt_row_id");
            assertThat(v.get("__pgt_row_id")).isNotNull();
            switch (change.op()) {
                case 'I' -> assertThat(List.of(v.get("region"), v.get("total"), v.get("n"))).containsExactly("east", "3", "1");
                case 'U' -> assertThat(List.of(v.get("region"), v.get("total"), v.get("n"))).containsExactly("north", "16", "2");
                default -> southRowId = v.get("__pgt_row_id");
            }
        }
        assertThat(decoded.changes()).filteredOn(c -> c.op() == 'D').singleElement()
                .satisfies(d -> assertThat(d.values().get("region")).as("a delete carries the key only").isNull());
        assertThat(southRowId).isNotNull();
    }

    @Test
    void droppingTheStreamTableDropsItsPublication() {
        api.create(StreamTableSpec.of("region_totals", TOTALS));
        publications.publish("region_totals");

        api.drop("region_totals");

        assertThat(db.value("SELECT count(*) FROM pg_publication WHERE pubname = 'pgt_pub_region_totals'")).isEqualTo(0L);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_table_publications")).isEqualTo(0L);
        api.create(StreamTableSpec.of("region_totals", TOTALS));
        assertThat(publications.publish("region_totals").name()).as("the name is free again").isEqualTo("pgt_pub_region_totals");
    }

    @Test
    void dropStreamTablePublicationRemovesItAndMistakesAreRefusedByName() {
        api.create(StreamTableSpec.of("region_totals", TOTALS));
        publications.publish("region_totals");

        assertThatThrownBy(() -> publications.publish("region_totals"))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NAME_TAKEN))
                .hasMessageContaining("stream table public.region_totals already has publication pgt_pub_region_totals");
        assertThatThrownBy(() -> publications.publish("ghost"))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND))
                .hasMessageContaining("stream table public.ghost does not exist");
        db.execute("CREATE SCHEMA other", "CREATE TABLE other.plain (id int)");
        api.create(StreamTableSpec.of("other.region_totals", TOTALS));
        assertThatThrownBy(() -> publications.publish("other.region_totals"))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NAME_TAKEN))
                .hasMessageContaining("publication pgt_pub_region_totals already exists (it publishes stream table public.region_totals)");
        db.execute("CREATE PUBLICATION pgt_pub_plain FOR TABLE other.plain");
        api.create(StreamTableSpec.of("plain", "SELECT id FROM orders"));
        assertThatThrownBy(() -> db.value("SELECT pgtrickle.stream_table_to_publication('plain')"))
                .hasMessageContaining("publication pgt_pub_plain already exists").hasMessageContaining("drop or rename");

        db.execute("SELECT pgtrickle.drop_stream_table_publication('region_totals')");
        assertThat(db.value("SELECT count(*) FROM pg_publication WHERE pubname = 'pgt_pub_region_totals'")).isEqualTo(0L);
        assertThatThrownBy(() -> db.execute("SELECT pgtrickle.drop_stream_table_publication('region_totals')"))
                .hasMessageContaining("stream table public.region_totals has no publication");
        assertThat(publications.unpublish("region_totals", true)).isFalse();
        assertThatThrownBy(() -> publications.unpublish("ghost", false))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThat(publications.list()).isEmpty();
    }

    @Test
    void thePublicationFollowsANewQueryAndStaysValidWhenAnotherStreamTableReadsIt() {
        api.create(StreamTableSpec.of("region_totals", TOTALS));
        publications.publish("region_totals");

        // PostgreSQL refuses to drop a column a publication's column list names: the list follows.
        api.alter("region_totals", AlterSpec.none().withQuery(
                "SELECT region, sum(amount) AS total, max(amount) AS biggest FROM orders GROUP BY region"));
        assertThat(publications.find("region_totals").orElseThrow().columns())
                .containsExactly("region", "total", "__pgt_row_id", "biggest");

        // A reader makes WAL capture set REPLICA IDENTITY FULL, which allows no column list.
        api.create(StreamTableSpec.of("grand_total", "SELECT sum(total) AS total FROM region_totals"));
        assertThat(db.value("SELECT relreplident::text FROM pg_class WHERE oid = 'region_totals'::regclass")).isEqualTo("f");
        assertThat(publications.find("region_totals").orElseThrow().columns())
                .containsExactly("region", "total", "__pgt_row_id", "__pgt_h", "biggest");

        db.execute("UPDATE orders SET amount = amount * 2");
        api.refresh("region_totals");
        api.refresh("grand_total");
        assertThat(db.value("SELECT total FROM grand_total")).isEqualTo(new java.math.BigDecimal("44"));
        assertThat(db.multisetDifference("SELECT region, total, biggest FROM region_totals",
                "SELECT region, sum(amount) AS total, max(amount) AS biggest FROM orders GROUP BY region")).isEmpty();
    }

    private PgOutput.Decoded awaitChanges(int count) {
        PgOutput.Decoded[] decoded = new PgOutput.Decoded[1];
        // With synchronous_commit off, decoding sees a commit once the WAL writer has flushed it.
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            List<byte[]> messages = db.rows("SELECT data FROM pg_logical_slot_peek_binary_changes(?, NULL, NULL,"
                    + " 'proto_version', '1', 'publication_names', 'pgt_pub_region_totals')", SLOT).stream()
                    .map(r -> (byte[]) r.get(0)).toList();
            decoded[0] = PgOutput.decode(messages);
            return decoded[0].changes().size() >= count;
        });
        return decoded[0];
    }
}
