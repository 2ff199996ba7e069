package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** WAL capture through Debezium into change buffers, and the refresh protocol consuming them. */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class WalCaptureIT {
    private final TestDatabase db;
    private PgTrickleEngine engine;
    private StreamTables api;

    WalCaptureIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void open() {
        engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(CdcMode.WAL));
        api = engine.streamTables();
        EngineFixture.dropAllStreamTables(api);
        db.execute("DROP TABLE IF EXISTS t, big, keyless, defaults CASCADE",
                "CREATE TABLE t (id int PRIMARY KEY, grp int NOT NULL, v numeric(12,2), note text, at timestamptz)");
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private String buffer(String table) {
        return "pgtrickle_changes.changes_" + db.value("SELECT '" + table + "'::regclass::oid::bigint");
    }

    @Test
    void everyRowChangeBecomesZSetRowsInTheSourceBuffer() {
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", null));
        assertThat(db.value("SELECT relreplident FROM pg_class WHERE oid = 't'::regclass")).isEqualTo("f");
        assertThat(db.value("SELECT count(*) FROM pg_publication_tables WHERE pubname = 'pgtrickle_pub' AND tablename = 't'"))
                .isEqualTo(1L);

        db.execute("INSERT INTO t VALUES (1, 1, 10.50, 'a', '2026-01-02 03:04:05.123456+00')",
                "UPDATE t SET v = 11.25, note = NULL WHERE id = 1",
                "UPDATE t SET id = 2 WHERE id = 1",
                "DELETE FROM t WHERE id = 2");
        api.refresh("t_all");

        assertThat(db.rows("SELECT weight, row ->> 'id', row ->> 'v', row ->> 'note' FROM " + buffer("t")
                + " ORDER BY xid, seq")).containsExactly(
                List.of(1, "1", "10.50", "a"),
                List.of(-1, "1", "10.50", "a"), java.util.Arrays.asList(1, "1", "11.25", null),
                java.util.Arrays.asList(-1, "1", "11.25", null), java.util.Arrays.asList(1, "2", "11.25", null),
                java.util.Arrays.asList(-1, "2", "11.25", null));
        assertThat(db.value("SELECT (jsonb_populate_record(NULL::t, row)).at = '2026-01-02 03:04:05.123456+00' FROM "
                + buffer("t") + " ORDER BY xid, seq LIMIT 1")).isEqualTo(true);
        assertThat(db.value("SELECT window_rows FROM pgtrickle.pgt_refresh_history WHERE pgt_name = 't_all'"
                + " ORDER BY refresh_id DESC LIMIT 1")).isEqualTo(6L);
    }

    @Test
    void concurrentWritersDuringRefreshesLoseNothingAndCountNothingTwice() throws Exception {
        // "anchor" is never refreshed, so the buffer keeps every change since tracking began.
        api.create(StreamTableSpec.parse("anchor", "SELECT * FROM t", "calculated", null));
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", null));
        int commits;
        try (WriterLoad writers = new WriterLoad(db, 4, 1000)) {
            for (int i = 0; i < 15; i++) {
                api.refresh("t_all");
                ZSetInvariant.check(db, "t", "t_all");
            }
            commits = writers.commits();
        }
        api.refresh("t_all");
        ZSetInvariant.check(db, "t", "t_all");

        assertThat(commits).isGreaterThan(100);
        assertThat(db.multisetDifference("SELECT * FROM t", "SELECT id, grp, v, note, at FROM t_all")).isEmpty();
        assertThat(db.value("SELECT count(*) > 0 FROM t")).isEqualTo(true);
    }

    @Test
    void aTransactionOpenAcrossCreationIsNotLost() throws Exception {
        db.execute("INSERT INTO t VALUES (1, 1, 1, 'before', NULL)");
        try (Connection writer = db.connect(); Statement s = writer.createStatement()) {
            writer.setAutoCommit(false);
            s.execute("INSERT INTO t VALUES (2, 1, 2, 'open across creation', NULL)");

            CompletableFuture<Void> create = CompletableFuture.runAsync(() ->
                    api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", null)));
            Thread.sleep(500);
            assertThat(create).as("creation waits for the open transaction").isNotDone();
            writer.commit();
            create.get(20, TimeUnit.SECONDS);
        }
        assertThat(db.rows("SELECT id FROM t_all ORDER BY id")).containsExactly(List.of(1), List.of(2));

        // A transaction that began before tracking but writes after it is captured like any other.
        try (Connection late = db.connect(); Statement s = late.createStatement()) {
            late.setAutoCommit(false);
            s.execute("SELECT count(*) FROM t");
            api.create(StreamTableSpec.parse("anchor", "SELECT * FROM t", "calculated", null));
            s.execute("INSERT INTO t VALUES (3, 1, 3, 'late writer', NULL)");
            late.commit();
        }
        api.refresh("t_all");
        assertThat(db.rows("SELECT id FROM t_all ORDER BY id")).containsExactly(List.of(1), List.of(2), List.of(3));
        assertThat(db.value("SELECT count(*) FROM " + buffer("t") + " WHERE row ->> 'note' = 'late writer'")).isEqualTo(1L);
    }

    @Test
    void truncateOfASourceLeavesTheStreamTableCorrect() {
        db.execute("INSERT INTO t SELECT g, g % 3, g, 'x', NULL FROM generate_series(1, 50) g");
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", null));
        api.create(StreamTableSpec.parse("per_grp", "SELECT grp, count(*) AS n FROM t GROUP BY grp", "calculated", null));

        db.execute("TRUNCATE t", "INSERT INTO t VALUES (7, 1, 1, 'after truncate', NULL)");
        api.refresh("t_all");
        assertThat(db.value("SELECT count(*) FROM " + buffer("t") + " WHERE weight = 0")).as("TRUNCATE marker").isEqualTo(1L);
        api.refresh("per_grp");

        assertThat(db.rows("SELECT id, note FROM t_all")).containsExactly(List.of(7, "after truncate"));
        assertThat(db.rows("SELECT grp, n FROM per_grp")).containsExactly(List.of(1, 1L));
    }

    @Test
    void anUpdateThatLeavesAToastedValueUnchangedBuffersTheWholeRow() {
        db.execute("CREATE TABLE big (id int PRIMARY KEY, n int, doc text)",
                "ALTER TABLE big ALTER COLUMN doc SET STORAGE EXTERNAL");
        api.create(StreamTableSpec.parse("anchor", "SELECT * FROM big", "calculated", null));
        api.create(StreamTableSpec.parse("big_all", "SELECT * FROM big", "calculated", null));
        db.execute("INSERT INTO big SELECT 1, 0, string_agg(md5(g::text), '') FROM generate_series(1, 20000) g");

        db.execute("UPDATE big SET n = n + 1 WHERE id = 1");
        api.refresh("big_all");

        assertThat(db.rows("SELECT weight, length(row ->> 'doc') FROM " + buffer("big") + " ORDER BY xid, seq"))
                .as("insert, then the update's old and new image, each with the whole document")
                .containsExactly(List.of(1, 640_000), List.of(-1, 640_000), List.of(1, 640_000));
        assertThat(db.value("SELECT count(*) FROM " + buffer("big") + " WHERE row::text LIKE '%unavailable%'")).isEqualTo(0L);
        ZSetInvariant.check(db, "big", "big_all");
        assertThat(db.value("SELECT md5(doc) = (SELECT md5(doc) FROM big) FROM big_all")).isEqualTo(true);
    }

    @Test
    void anExplicitNullInAColumnWithADefaultIsCapturedAsNull() {
        // Debezium gives such a column a schema default; a NULL read naively would come back as the default.
        db.execute("CREATE TABLE defaults (id int PRIMARY KEY, n int DEFAULT 5, s text DEFAULT 'dflt', j jsonb DEFAULT '{}',"
                + " g text GENERATED ALWAYS AS (j ->> 'a') STORED)");
        api.create(StreamTableSpec.parse("defaults_all", "SELECT id, n, s, j, g FROM defaults", "1h", "DIFFERENTIAL"));

        db.execute("INSERT INTO defaults VALUES (1, NULL, NULL, NULL), (2, DEFAULT, DEFAULT, DEFAULT), (3, 7, 'v', '{\"a\": \"x\"}')",
                "UPDATE defaults SET n = NULL, s = NULL, j = NULL WHERE id = 3");
        api.refresh("defaults_all");

        assertThat(db.multisetDifference("SELECT id, n, s, j, g FROM defaults", "SELECT id, n, s, j, g FROM defaults_all")).isEmpty();
        assertThat(db.value("SELECT count(*) FROM defaults_all WHERE n IS NULL AND s IS NULL AND j IS NULL AND g IS NULL"))
                .isEqualTo(2L);
    }

    @Test
    void identicalRowsOfOneMultiRowInsertAreEachCounted() {
        db.execute("CREATE TABLE keyless (a int, b text)");
        api.create(StreamTableSpec.parse("anchor", "SELECT * FROM keyless", "calculated", null));
        api.create(StreamTableSpec.parse("k_all", "SELECT * FROM keyless", "calculated", null));

        db.execute("INSERT INTO keyless SELECT 1, 'same' FROM generate_series(1, 5)",
                "COPY keyless FROM PROGRAM 'printf \"2\\tcopied\\n2\\tcopied\\n\"'",
                "DELETE FROM keyless WHERE ctid = (SELECT min(ctid) FROM keyless WHERE a = 1)");
        api.refresh("k_all");

        assertThat(db.rows("SELECT weight, count(*) FROM " + buffer("keyless") + " GROUP BY weight ORDER BY weight"))
                .containsExactly(List.of(-1, 1L), List.of(1, 7L));
        ZSetInvariant.check(db, "keyless", "k_all");
    }

    @Test
    void bufferedChangesAreRemovedOnceEveryReaderHasConsumedThem() {
        api.create(StreamTableSpec.parse("one", "SELECT * FROM t", "calculated", null));
        api.create(StreamTableSpec.parse("two", "SELECT count(*) AS n FROM t", "calculated", null));
        db.execute("INSERT INTO t VALUES (1, 1, 1, 'x', NULL), (2, 2, 2, 'y', NULL)");

        api.refresh("one");
        assertThat(db.value("SELECT count(*) FROM " + buffer("t"))).as("two has not consumed them").isEqualTo(2L);
        api.refresh("two");
        assertThat(db.value("SELECT count(*) FROM " + buffer("t"))).isEqualTo(0L);
        assertThat(db.rows("SELECT source, cdc_mode, pending_rows FROM pgtrickle.change_buffer_sizes()"))
                .containsExactly(List.of("public.t", "WAL", 0L));
    }

    @Test
    void aSourceAddedWhileCaptureRunsIsCapturedAndLeavesThePublicationWithItsLastReader() {
        db.execute("DROP TABLE IF EXISTS late", "CREATE TABLE late (k int PRIMARY KEY, v text)");
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", null));
        engine.start();
        db.execute("INSERT INTO t VALUES (1, 1, 1, 'x', NULL)");
        api.refresh("t_all");

        api.create(StreamTableSpec.parse("late_all", "SELECT * FROM late", "calculated", null));
        db.execute("INSERT INTO late VALUES (1, 'captured after joining the publication')");
        api.refresh("late_all");

        assertThat(db.rows("SELECT weight, row ->> 'v' FROM " + buffer("late")))
                .containsExactly(List.of(1, "captured after joining the publication"));
        assertThat(db.value("SELECT window_rows FROM pgtrickle.pgt_refresh_history WHERE pgt_name = 'late_all'"
                + " ORDER BY refresh_id DESC LIMIT 1")).isEqualTo(1L);

        api.drop("late_all");
        assertThat(db.rows("SELECT tablename FROM pg_publication_tables WHERE pubname = 'pgtrickle_pub' ORDER BY 1"))
                .as("t_all is read by no stream table, so it is no source").containsExactly(List.of("t"));
        api.drop("t_all");
        assertThat(db.value("SELECT count(*) FROM pg_publication_tables WHERE pubname = 'pgtrickle_pub'")).isEqualTo(0L);
    }

    @Test
    void anotherProcessRefreshesThroughTheRunningEnginesCapture() throws java.sql.SQLException {
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", null));
        engine.start();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
                assertThat(db.value("SELECT active FROM pgtrickle.slot_health()")).isEqualTo(true));

        // Let the running engine stream past everything written so far: a marker an earlier test's
        // engine emitted and never saw answered would otherwise be recorded in the middle of this one.
        try (java.sql.Connection c = engine.dataSource().getConnection()) {
            engine.capture().awaitBuffered(engine.capture().sources().all(c),
                    (String) db.value("SELECT pg_current_wal_insert_lsn()::text"));
        }
        long markersBefore = (Long) db.value("SELECT count(*) FROM pgtrickle.pgt_capture_markers");
        try (PgTrickleEngine oneShot = EngineFixture.open(db)) {
            db.execute("INSERT INTO t VALUES (1, 1, 1, 'seen by the running engine', NULL)");
            long started = System.nanoTime();
            oneShot.streamTables().refresh("t_all");

            assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(Duration.ofSeconds(10));
        }
        assertThat(db.rows("SELECT note FROM t_all")).containsExactly(List.of("seen by the running engine"));
        assertThat(db.value("SELECT window_rows FROM pgtrickle.pgt_refresh_history WHERE pgt_name = 't_all'"
                + " ORDER BY refresh_id DESC LIMIT 1")).isEqualTo(1L);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_capture_markers"))
                .as("the one-shot engine waited on the running engine's marker record").isEqualTo(markersBefore + 1);
    }

    @Test
    void theSlotAdvancesWhenOnlyUntrackedTablesAreWritten() {
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "1h", null));
        db.execute("DROP TABLE IF EXISTS busy", "CREATE TABLE busy (v text)");
        engine.start();
        db.execute("INSERT INTO busy SELECT repeat('x', 1000) FROM generate_series(1, 20000)");
        Object walAfterWrites = db.value("SELECT pg_current_wal_lsn()::text");

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(db.value(
                "SELECT confirmed_flush_lsn >= '" + walAfterWrites + "'::pg_lsn FROM pgtrickle.slot_health()"))
                .isEqualTo(true));
        assertThat(db.value("SELECT count(*) FROM " + buffer("t"))).isEqualTo(0L);
    }

    @Test
    void theSlotAdvancesWhileStreamTablesAreIdle() {
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", null));
        engine.start();
        db.execute("INSERT INTO t SELECT g, 1, 1, repeat('w', 500), NULL FROM generate_series(1, 5000) g");
        Object walAfterWrites = db.value("SELECT pg_current_wal_lsn()::text");

        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(db.value(
                "SELECT confirmed_flush_lsn >= '" + walAfterWrites + "'::pg_lsn FROM pgtrickle.slot_health()"))
                .isEqualTo(true));
        assertThat(db.value("SELECT active FROM pgtrickle.slot_health()")).isEqualTo(true);
        assertThat(db.value("SELECT count(*) FROM " + buffer("t"))).isEqualTo(5000L);
    }
}
