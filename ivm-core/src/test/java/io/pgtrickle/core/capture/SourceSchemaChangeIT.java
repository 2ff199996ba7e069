package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.Status;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * ALTER TABLE and DROP TABLE on sources while the engine runs: unaffected stream tables keep
 * working; affected ones follow the change or go to ERROR naming the source and the change.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class SourceSchemaChangeIT {
    private final TestDatabase db;
    private PgTrickleEngine engine;
    private StreamTables api;

    SourceSchemaChangeIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void start() {
        engine = EngineFixture.open(db);
        api = engine.streamTables();
        EngineFixture.dropAllStreamTables(api);
        db.execute("DROP TABLE IF EXISTS t, u CASCADE",
                "CREATE TABLE t (id int PRIMARY KEY, a int, b text)",
                "CREATE TABLE u (id int PRIMARY KEY, x int)",
                "INSERT INTO t VALUES (1, 10, 'one'), (2, 20, 'two')",
                "INSERT INTO u VALUES (1, 100)");
        api.create(StreamTableSpec.parse("st_ab", "SELECT id, a, b FROM t", "200ms", null));
        api.create(StreamTableSpec.parse("st_star", "SELECT * FROM t", "200ms", null));
        api.create(StreamTableSpec.parse("st_u", "SELECT id, x FROM u", "200ms", null));
        engine.start();
    }

    @AfterEach
    void stop() {
        engine.close();
    }

    private StreamTableRecord st(String name) {
        return api.require(QualifiedName.parse(name));
    }

    private void assertUnaffectedStreamTableKeepsWorking(int id) {
        db.execute("INSERT INTO u VALUES (" + id + ", " + id + ")");
        await().ignoreExceptions().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                assertThat(db.multisetDifference("SELECT id, x FROM st_u", "SELECT id, x FROM u")).isEmpty());
        assertThat(st("st_u").status()).isEqualTo(Status.ACTIVE);
    }

    @Test
    void addColumnIsFollowedBySelectStarAndIgnoredByOthers() {
        db.execute("ALTER TABLE t ADD COLUMN c numeric(5,1) DEFAULT 1.5", "INSERT INTO t VALUES (3, 30, 'three', 2.5)");

        await().ignoreExceptions().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(db.multisetDifference("SELECT id, a, b, c FROM st_star", "SELECT * FROM t")).isEmpty();
            assertThat(db.multisetDifference("SELECT id, a, b FROM st_ab", "SELECT id, a, b FROM t")).isEmpty();
        });
        assertThat(db.value("SELECT format_type(atttypid, atttypmod) FROM pg_attribute "
                + "WHERE attrelid = 'st_star'::regclass AND attname = 'c'")).isEqualTo("numeric(5,1)");
        assertThat(st("st_ab").status()).isEqualTo(Status.ACTIVE);
        assertThat(st("st_star").status()).isEqualTo(Status.ACTIVE);
        assertThat(db.value("SELECT detail FROM pgtrickle.pgt_source_events ORDER BY event_id DESC LIMIT 1"))
                .isEqualTo("column c numeric(5,1) added");
        assertUnaffectedStreamTableKeepsWorking(2);
    }

    @Test
    void renamingAColumnAQueryUsesPutsItInErrorNamingTheSourceAndTheChange() {
        db.execute("ALTER TABLE t RENAME COLUMN b TO label");

        await().ignoreExceptions().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            StreamTableRecord ab = st("st_ab");
            assertThat(ab.status()).isIn(Status.ERROR, Status.SUSPENDED);
            assertThat(ab.lastError()).contains("public.t").contains("column b renamed to label");
        });
        // SELECT * still works and follows the new name.
        db.execute("INSERT INTO t VALUES (3, 30, 'three')");
        await().ignoreExceptions().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                assertThat(db.multisetDifference("SELECT id, a, label FROM st_star", "SELECT * FROM t")).isEmpty());
        assertThat(db.rows("SELECT name, status FROM pgtrickle.pgt_status() WHERE name = 'public.st_star'"))
                .containsExactly(List.of("public.st_star", "ACTIVE"));
        assertUnaffectedStreamTableKeepsWorking(3);

        // Renaming it back and resuming (it may have been suspended after repeated failures) recovers it.
        db.execute("ALTER TABLE t RENAME COLUMN label TO b");
        api.alter("st_ab", AlterSpec.none().withStatus(Status.ACTIVE));
        await().ignoreExceptions().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(st("st_ab").status()).isEqualTo(Status.ACTIVE);
            assertThat(db.multisetDifference("SELECT id, a, b FROM st_ab", "SELECT id, a, b FROM t")).isEmpty();
        });
    }

    @Test
    void droppingAColumnAQueryUsesPutsItInError() {
        db.execute("ALTER TABLE t DROP COLUMN a");

        await().ignoreExceptions().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                assertThat(st("st_ab").lastError()).contains("public.t").contains("column a dropped"));
        await().ignoreExceptions().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
                assertThat(db.multisetDifference("SELECT id, b FROM st_star", "SELECT * FROM t")).isEmpty());
        assertUnaffectedStreamTableKeepsWorking(4);
    }

    @Test
    void droppingASourceTablePutsItsReadersInErrorAndRemovesItsBuffer() {
        String buffer = "pgtrickle_changes.changes_" + db.value("SELECT 't'::regclass::oid::bigint");
        db.execute("DROP TABLE t");

        await().ignoreExceptions().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(st("st_ab").lastError()).contains("public.t").contains("dropped");
            assertThat(st("st_star").lastError()).contains("public.t").contains("dropped");
            // A scheduled refresh can fail naming the drop before the drop's handler has run.
            assertThat(db.value("SELECT to_regclass('" + buffer + "') IS NULL")).isEqualTo(true);
        });
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_change_sources WHERE source_name = 't'")).isEqualTo(0L);
        assertUnaffectedStreamTableKeepsWorking(5);
        // Their last good contents stay readable.
        assertThat(db.value("SELECT count(*) FROM st_ab")).isEqualTo(2L);
    }
}
