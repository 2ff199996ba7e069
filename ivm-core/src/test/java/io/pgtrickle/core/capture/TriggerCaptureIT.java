package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.embedded.EmbeddedPostgresServer;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** Trigger capture: the same buffers and protocol, written inside the writers' transactions. */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TriggerCaptureIT {
    private final TestDatabase db;
    private PgTrickleEngine engine;
    private StreamTables api;

    TriggerCaptureIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void open() {
        engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(CdcMode.TRIGGER));
        api = engine.streamTables();
        EngineFixture.dropAllStreamTables(api);
        db.execute("DROP TABLE IF EXISTS t CASCADE",
                "CREATE TABLE t (id int PRIMARY KEY, grp int NOT NULL, v numeric(12,2), note text, at timestamptz)");
    }

    @AfterEach
    void close() {
        engine.close();
    }

    private String buffer() {
        return "pgtrickle_changes.changes_" + db.value("SELECT 't'::regclass::oid::bigint");
    }

    @Test
    void theBufferIsWrittenInTheWritersOwnTransaction() throws Exception {
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", null));
        try (Connection writer = db.connect(); Statement s = writer.createStatement()) {
            writer.setAutoCommit(false);
            s.execute("INSERT INTO t VALUES (1, 1, 1, 'kept', NULL)");
            String xid;
            try (ResultSet rs = s.executeQuery("SELECT pg_current_xact_id()::text")) {
                rs.next();
                xid = rs.getString(1);
            }
            assertThat(db.value("SELECT count(*) FROM " + buffer())).as("not committed yet").isEqualTo(0L);
            writer.commit();
            assertThat(db.rows("SELECT xid::text, weight FROM " + buffer())).containsExactly(List.of(xid, 1));

            s.execute("INSERT INTO t VALUES (2, 1, 1, 'rolled back', NULL)");
            writer.rollback();
        }
        assertThat(db.value("SELECT count(*) FROM " + buffer())).isEqualTo(1L);
        assertThat(db.value("SELECT count(*) FROM pg_trigger WHERE tgrelid = 't'::regclass AND tgname LIKE 'pgtrickle%'"))
                .isEqualTo(4L);
        assertThat(db.rows("SELECT cdc_mode FROM pgtrickle.pgt_status()")).containsExactly(List.of("TRIGGER"));
        assertThat(db.rows("SELECT source, cdc_mode, pending_rows FROM pgtrickle.change_buffer_sizes()"))
                .containsExactly(List.of("public.t", "TRIGGER", 1L));
    }

    @Test
    void concurrentWritersDuringRefreshesLoseNothingAndCountNothingTwice() throws Exception {
        api.create(StreamTableSpec.parse("anchor", "SELECT * FROM t", "calculated", null));
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", null));
        try (WriterLoad writers = new WriterLoad(db, 4, 2000)) {
            for (int i = 0; i < 15; i++) {
                api.refresh("t_all");
                ZSetInvariant.check(db, "t", "t_all");
            }
            assertThat(writers.commits()).isGreaterThan(100);
        }
        api.refresh("t_all");
        ZSetInvariant.check(db, "t", "t_all");
        assertThat(db.multisetDifference("SELECT * FROM t", "SELECT id, grp, v, note, at FROM t_all")).isEmpty();
    }

    @Test
    void truncateIsMarkedAndTheStreamTableEndsCorrect() {
        db.execute("INSERT INTO t SELECT g, 1, g, 'x', NULL FROM generate_series(1, 20) g");
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", null));
        api.create(StreamTableSpec.parse("n", "SELECT count(*) AS n FROM t", "calculated", null));

        db.execute("TRUNCATE t", "INSERT INTO t VALUES (5, 1, 1, 'y', NULL)");
        api.refresh("t_all");

        assertThat(db.value("SELECT count(*) FROM " + buffer() + " WHERE weight = 0")).isEqualTo(1L);
        assertThat(db.rows("SELECT id FROM t_all")).containsExactly(List.of(5));
        api.refresh("n");
        assertThat(db.value("SELECT n FROM n")).isEqualTo(1L);
    }

    @Test
    void columnsNamedLikeTheTriggersRowAliasesAreCapturedAsColumns() {
        // The statement triggers read their transition tables as "o" and "n": a column of that name
        // must not be taken for the whole row.
        db.execute("DROP TABLE IF EXISTS aliases CASCADE", "CREATE TABLE aliases (id int PRIMARY KEY, o text, n int)",
                "INSERT INTO aliases VALUES (1, 'a', 1)");
        api.create(StreamTableSpec.parse("aliases_all", "SELECT id, o, n FROM aliases", "1h", "DIFFERENTIAL"));

        db.execute("INSERT INTO aliases VALUES (2, 'b', 2), (3, NULL, NULL)", "UPDATE aliases SET n = n + 10 WHERE id = 1",
                "DELETE FROM aliases WHERE id = 2");
        api.refresh("aliases_all");

        assertThat(db.rows("SELECT id, o, n FROM aliases_all ORDER BY id"))
                .containsExactly(List.of(1, "a", 11), java.util.Arrays.asList(3, null, null));
    }

    @Test
    void droppingTheLastReaderRemovesTriggersAndBuffer() {
        api.create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", null));
        String buffer = buffer();
        api.drop("t_all");

        assertThat(db.value("SELECT count(*) FROM pg_trigger WHERE tgrelid = 't'::regclass AND tgname LIKE 'pgtrickle%'"))
                .isEqualTo(0L);
        assertThat(db.value("SELECT to_regclass('" + buffer + "') IS NULL")).isEqualTo(true);
        db.execute("INSERT INTO t VALUES (1, 1, 1, 'untracked', NULL)");
    }

    @Test
    void autoUsesTriggersWhenTheServerHasNoLogicalWal() throws Exception {
        try (EmbeddedPostgresServer replica = EmbeddedPostgresServer.start(
                new EmbeddedPostgresServer.Options(0, null, false, Map.of("wal_level", "replica")));
             PgTrickleEngine auto = PgTrickleEngine.open(EngineConfig.of(replica.jdbcUrl("postgres")))) {
            try (Connection c = DriverManager.getConnection(replica.jdbcUrl("postgres")); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE src (k int PRIMARY KEY, v int)");
            }
            assertThat(auto.capture().mode()).isEqualTo(CdcMode.TRIGGER);
            auto.streamTables().create(StreamTableSpec.parse("sums", "SELECT sum(v) AS v FROM src", "calculated", null));
            try (Connection c = DriverManager.getConnection(replica.jdbcUrl("postgres")); Statement s = c.createStatement()) {
                s.execute("INSERT INTO src VALUES (1, 40), (2, 2)");
            }
            assertThat(auto.streamTables().refresh("sums").rowsInserted()).isEqualTo(1);
            try (Connection c = DriverManager.getConnection(replica.jdbcUrl("postgres")); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT v, (SELECT cdc_mode FROM pgtrickle.pgt_status()) FROM sums")) {
                rs.next();
                assertThat(rs.getLong(1)).isEqualTo(42L);
                assertThat(rs.getString(2)).isEqualTo("TRIGGER");
            }
        }
    }
}
