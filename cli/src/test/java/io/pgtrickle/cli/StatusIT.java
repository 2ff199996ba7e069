package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code pgtrickle status} on change capture: the capture mode of each stream table, the change
 * buffers, the replication slot, and whether an engine runs; against a real PostgreSQL 18 with
 * {@code wal_level=logical}. Every engine here uses a slot named after its database: slots are
 * per server, and the server is shared by the test classes.
 */
@ExtendWith(PostgresExtension.class)
class StatusIT {
    private static final Pattern EVENTS_BUFFER = Pattern.compile(
            "(?m)^ public\\.events +\\| WAL +\\| pgtrickle_changes\\.changes_\\d+ +\\| +(\\d+) \\| +\\d+(\\.\\d)? [kMG]?B \\|.*$");

    private final TestDatabase db;
    private final String slot;

    StatusIT(TestDatabase db) {
        this.db = db;
        this.slot = "pgtrickle_" + db.name();
    }

    private Cli.Result pgtrickle(String... args) {
        return Cli.runAgainst(db.jdbcUrl(), slot, args);
    }

    @Test
    void statusShowsCaptureBuffersSlotAndWhetherAnEngineRuns() {
        db.execute("CREATE TABLE events (id int PRIMARY KEY, v text)", "INSERT INTO events VALUES (1, 'a')");
        Cli.Result create = pgtrickle("create", "events_copy", "--query", "SELECT id, v FROM events", "--schedule",
                "calculated");
        assertThat(create.exitCode()).as(create.toString()).isZero();
        String noEngine = "no engine is running against this database: nothing refreshes on schedule (start one with:"
                + " bin/pgtrickle run --jdbc-url " + db.jdbcUrl() + " --slot-name " + slot + ")";
        assertThat(create.err()).contains("note: " + noEngine);

        Cli.Result idle = pgtrickle("status");
        assertThat(idle.exitCode()).as(idle.toString()).isZero();
        assertThat(idle.out()).containsPattern("(?m)^ public\\.events_copy +\\| ACTIVE +\\| AUTO +\\| \\w+ +\\|"
                + " calculated +\\| WAL +\\|");
        assertThat(section(idle.out(), "change buffers")).containsPattern(EVENTS_BUFFER);
        assertThat(pendingRows(idle)).isZero();
        assertThat(section(idle.out(), "replication slot")).contains("slot", "active", "wal status", "retained wal",
                        "capture lag", "last event")
                .containsPattern("(?m)^ " + slot + " +\\| no +\\| \\w+ +\\| +\\d+(\\.\\d)? [kMG]?B \\|");
        assertThat(idle.out()).endsWith("\n" + noEngine + "\n");

        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineConfig.of(db.jdbcUrl()).withSlotName(slot)).start()) {
            db.execute("INSERT INTO events VALUES (2, 'b')", "INSERT INTO events VALUES (3, 'c')");

            // WAL capture buffers both inserts; nothing consumes them, since nothing reads
            // events_copy and so its calculated schedule never refreshes it.
            await().atMost(Duration.ofSeconds(30)).until(() -> pendingRows(pgtrickle("status")) == 2);
            Cli.Result running = pgtrickle("status");
            assertThat(section(running.out(), "replication slot"))
                    .containsPattern("(?m)^ " + slot + " +\\| yes +\\| \\w+ +\\| .*\\| \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d$");
            assertThat(running.out())
                    .endsWith("\nan engine is running against this database: stream tables refresh on schedule\n");
            assertThat(db.value("SELECT count(*) FROM events_copy")).isEqualTo(1L);

            Cli.Result alter = pgtrickle("alter", "events_copy", "--schedule", "1h");
            assertThat(alter.exitCode()).as(alter.toString()).isZero();
            assertThat(alter.err()).doesNotContain("note:");
        }

        db.execute("INSERT INTO events VALUES (4, 'd')");
        Cli.Result stopped = pgtrickle("status");
        assertThat(pendingRows(stopped)).as("no engine streams the WAL into the buffer").isEqualTo(2);
        assertThat(stopped.out()).endsWith("\n" + noEngine + "\n");
    }

    /** The rows waiting in the buffer of public.events, as status shows them. */
    private static long pendingRows(Cli.Result status) {
        assertThat(status.exitCode()).as(status.toString()).isZero();
        Matcher m = EVENTS_BUFFER.matcher(section(status.out(), "change buffers"));
        assertThat(m.find()).as(status.out()).isTrue();
        return Long.parseLong(m.group(1));
    }

    /** The lines of one section of the output, from its title to the next empty line. */
    private static String section(String out, String title) {
        int start = out.indexOf("\n" + title + "\n");
        assertThat(start).as("section " + title + " in\n" + out).isNotNegative();
        int end = out.indexOf("\n\n", start + 1);
        return end < 0 ? out.substring(start + 1) : out.substring(start + 1, end + 1);
    }
}
