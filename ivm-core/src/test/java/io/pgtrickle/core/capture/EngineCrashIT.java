package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The engine process is killed (SIGKILL) between buffering changes and refreshing; a new one loses nothing. */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class EngineCrashIT {
    @Test
    void aKilledEngineLosesNothingAndCountsNothingTwiceAfterRestart(TestDatabase db, @TempDir Path dir) throws Exception {
        db.execute("CREATE TABLE t (id int PRIMARY KEY, grp int NOT NULL, v numeric(12,2), note text, at timestamptz)");
        try (PgTrickleEngine setup = EngineFixture.open(db)) {
            setup.streamTables().create(StreamTableSpec.parse("anchor", "SELECT * FROM t", "calculated", null));
            setup.streamTables().create(StreamTableSpec.parse("t_all", "SELECT * FROM t", "calculated", null));
        }
        String buffer = "pgtrickle_changes.changes_" + db.value("SELECT 't'::regclass::oid::bigint");
        String slot = EngineFixture.config(db).slotName();

        Path output = dir.resolve("engine.log");
        Process engine = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), EngineProcess.class.getName(), db.jdbcUrl(), slot)
                .redirectErrorStream(true).redirectOutput(output.toFile()).start();
        try {
            await().atMost(Duration.ofSeconds(60)).until(() -> Files.readString(output).contains("READY"));
            try (WriterLoad writers = new WriterLoad(db, 4, 3000)) {
                Thread.sleep(1500);
            }
            // Everything written so far is buffered by the engine process, then it dies.
            long written = (Long) db.value("SELECT count(*) FROM t");
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    (Long) db.value("SELECT count(*) FROM " + buffer + " WHERE weight = 1") >= written);
            assertThat(engine.isAlive()).isTrue();
        } finally {
            engine.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        }
        assertThat(engine.exitValue()).as("killed, not stopped").isEqualTo(137);

        // Changes made while no engine runs are retained by the slot.
        db.execute("INSERT INTO t SELECT 5000000 + g, 7, g, 'while down', NULL FROM generate_series(1, 300) g",
                "UPDATE t SET v = 0 WHERE grp = 7 AND id % 2 = 0", "DELETE FROM t WHERE grp = 7 AND id % 3 = 0");

        try (PgTrickleEngine restarted = EngineFixture.open(db)) {
            restarted.streamTables().refresh("t_all");
            ZSetInvariant.check(db, "t", "t_all");
            assertThat(db.multisetDifference("SELECT * FROM t", "SELECT id, grp, v, note, at FROM t_all")).isEmpty();
            assertThat(db.value("SELECT count(*) FROM t_all WHERE note = 'while down'")).isEqualTo(200L);
        }
    }
}
