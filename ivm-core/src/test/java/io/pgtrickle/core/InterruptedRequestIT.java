package io.pgtrickle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * An engine killed after a request's work committed but before its outcome was recorded: the next
 * engine takes the request up again (it is still RUNNING), and it must succeed rather than fail on
 * its own earlier effect.
 */
@ExtendWith(PostgresExtension.class)
class InterruptedRequestIT {
    private static final String QUERY = "SELECT region, sum(amount) AS total FROM sales GROUP BY region";
    private final TestDatabase db;

    InterruptedRequestIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void schema() {
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            EngineFixture.dropAllStreamTables(engine.streamTables());
        }
        db.execute("TRUNCATE pgtrickle.pgt_requests RESTART IDENTITY", "DROP TABLE IF EXISTS sales CASCADE",
                "CREATE TABLE sales (id int PRIMARY KEY, region text NOT NULL, amount int NOT NULL)",
                "INSERT INTO sales VALUES (1, 'north', 10), (2, 'south', 7)");
    }

    @Test
    void aCreateThatCommittedBeforeTheEngineDiedIsDoneWhenTakenUpAgain() {
        long request;
        try (PgTrickleEngine dying = EngineFixture.open(db)) {
            request = (Long) db.value("SELECT pgtrickle.create_stream_table('region_totals', $$" + QUERY + "$$, '30s')");
            // What the engine had done when it was killed: claimed the request, created the table.
            db.execute("UPDATE pgtrickle.pgt_requests SET state = 'RUNNING' WHERE request_id = " + request);
            dying.streamTables().create(StreamTableSpec.parse("region_totals", QUERY, "30s", "AUTO"));
        }

        try (PgTrickleEngine next = EngineFixture.open(db).start()) {
            db.value("SELECT pgtrickle.await_request(?, '20 seconds')", request);
            awaitCaptureStreaming();
        }

        assertThat(db.rows("SELECT state, error FROM pgtrickle.pgt_requests WHERE request_id = ?", request))
                .containsExactly(java.util.Arrays.asList("DONE", null));
        assertThat(db.multisetDifference("SELECT region, total FROM region_totals", QUERY)).isEmpty();
    }

    @Test
    void aDropThatCommittedBeforeTheEngineDiedIsDoneWhenTakenUpAgain() {
        long request;
        try (PgTrickleEngine dying = EngineFixture.open(db)) {
            dying.streamTables().create(StreamTableSpec.parse("region_totals", QUERY, "30s", "AUTO"));
            request = (Long) db.value("SELECT pgtrickle.drop_stream_table('region_totals')");
            db.execute("UPDATE pgtrickle.pgt_requests SET state = 'RUNNING' WHERE request_id = " + request);
            dying.streamTables().drop(io.pgtrickle.core.sql.QualifiedName.parse("region_totals"), false);
        }

        try (PgTrickleEngine next = EngineFixture.open(db).start()) {
            db.value("SELECT pgtrickle.await_request(?, '20 seconds')", request);
        }

        assertThat(db.rows("SELECT state, error FROM pgtrickle.pgt_requests WHERE request_id = ?", request))
                .containsExactly(java.util.Arrays.asList("DONE", null));
    }

    @Test
    void aCreateThatHadNotCommittedIsCarriedOutWhenTakenUpAgain() {
        long request = (Long) db.value("SELECT pgtrickle.create_stream_table('region_totals', $$" + QUERY + "$$, '30s')");
        db.execute("UPDATE pgtrickle.pgt_requests SET state = 'RUNNING' WHERE request_id = " + request);

        try (PgTrickleEngine next = EngineFixture.open(db).start()) {
            db.value("SELECT pgtrickle.await_request(?, '20 seconds')", request);
            awaitCaptureStreaming();
        }

        assertThat(db.rows("SELECT state FROM pgtrickle.pgt_requests WHERE request_id = ?", request))
                .containsExactly(List.of("DONE"));
        assertThat(db.multisetDifference("SELECT region, total FROM region_totals", QUERY)).isEmpty();
    }

    /**
     * Debezium refuses to stop while its task is still starting (WalCapture.close then throws),
     * so a started engine is closed only once its capture streams.
     */
    private void awaitCaptureStreaming() {
        await().atMost(Duration.ofSeconds(30)).until(() -> Boolean.TRUE.equals(db.value(
                "SELECT active FROM pg_replication_slots WHERE slot_name = ?", "pgtrickle_" + db.name())));
    }
}
