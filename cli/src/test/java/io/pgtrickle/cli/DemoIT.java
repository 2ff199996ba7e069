package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** {@code pgtrickle demo} end to end, and the check it relies on. */
@ExtendWith(PostgresExtension.class)
class DemoIT {
    @Test
    void demoShowsTheCascadeAndVerifiesEveryStep() {
        Cli.Result r = Cli.run("demo");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        String out = r.out();
        assertThat(out).contains("starting PostgreSQL 18 on a temporary data directory ... ready on port",
                "starting the pg_trickle engine ... running");
        // The initial check, then one per step: every layer equals its defining query each time.
        assertThat(out.split("check     all 3 stream tables equal a fresh run", -1)).hasSize(6);
        assertThat(r.err()).isEmpty();

        // Step 3b: the last layer's outbox, published by the relay; Kafka always (a broker in the JVM).
        assertThat(section(out, "Step 3b", "Step 4a")).contains("SELECT pgtrickle.enable_outbox('department_report');",
                "kafka    topic pgtrickle.department_report on a broker in this JVM",
                "streamed  3 changes of department_report: its contents when the outbox was enabled")
                .containsPattern("kafka insert \\{\"division\":\"Sales\",\"total_payroll\":185000.00,"
                        + "\"total_headcount\":2} *\n");
        String step4a = section(out, "Step 4a", "Step 4b");
        // Heidi raises Engineering's row: one update, read back from the topic, with its lag.
        assertThat(step4a).contains("streamed  1 change of department_report (4 since the outbox was enabled):")
                .containsPattern("kafka update \\{\"division\":\"Engineering\",\"total_payroll\":580000.00,"
                        + "\"total_headcount\":5} +[0-9.]+ s after COMMIT");
        assertThat(step4a).contains("INSERT INTO employees (name, department_id, salary) VALUES ('Heidi', 6, 105000);")
                .containsPattern("\\+ +6 \\| Frontend +\\| Company > Engineering > Frontend +\\| +2 \\| +2 \\| +215000.00")
                .containsPattern("\\+  Engineering \\| +5 \\| +580000.00")
                .contains("department_tree    unchanged", "2 of 3 layers changed");

        String step4b = section(out, "Step 4b", "Step 4c");
        assertThat(step4b).containsPattern("\\+ +8 \\| DevOps +\\| +2 \\| Company > Engineering > DevOps")
                .contains("department_report  unchanged", "streamed  0 changes of department_report");

        String step4c = section(out, "Step 4c", "Step 4d");
        String report4c = section(step4c, "department_report (ORDER BY division", "cascade");
        assertThat(report4c).containsPattern("\\+  R&D +\\| +5 \\| +580000.00")
                .containsPattern("-  Engineering \\| +5 \\| +580000.00");
        assertThat(step4c).contains("department_tree    -5 +5 rows", "3 of 3 layers changed")
                .containsPattern("kafka delete \\{\"division\":\"Engineering\",")
                .containsPattern("kafka insert \\{\"division\":\"R&D\",");

        String step4d = section(out, "Step 4d", "What next");
        assertThat(step4d).containsPattern("\\+ +5 \\| Backend +\\| Company > R&D > Backend +\\| +2 \\| +1 \\| +120000.00")
                .containsPattern("\\+  R&D +\\| +4 \\| +465000.00");
        assertThat(out).contains("What next", "bin/pgtrickle run");
    }

    @Test
    void theCheckFindsRowsThatDifferInEitherDirection(TestDatabase db) throws Exception {
        db.execute("CREATE TABLE src (k int, v text)", "INSERT INTO src VALUES (1, 'a'), (2, 'b'), (2, 'b')",
                "CREATE TABLE copy (k int, v text, __pgt_row_id uuid)",
                "INSERT INTO copy VALUES (1, 'a', gen_random_uuid()), (2, 'b', gen_random_uuid())");
        QualifiedName copy = new QualifiedName("public", "copy");

        try (Connection c = db.connect()) {
            assertThat(InvariantCheck.differences(c, copy, "SELECT k, v FROM src", 10)).containsExactly("missing (2, b)");
            db.execute("INSERT INTO copy VALUES (2, 'b', gen_random_uuid()), (3, NULL, gen_random_uuid())");
            assertThat(InvariantCheck.differences(c, copy, "SELECT k, v FROM src", 10)).containsExactly("extra (3, null)");
            db.execute("DELETE FROM copy WHERE k = 3");
            assertThat(InvariantCheck.differences(c, copy, "SELECT k, v FROM src", 10)).isEmpty();
        }
    }

    @Test
    void theCascadeWatchGivesUpWithAClearError(TestDatabase db) throws Exception {
        // A catalog without an engine: nothing will ever refresh.
        io.pgtrickle.core.PgTrickleEngine.open(io.pgtrickle.core.EngineConfig.of(db.jdbcUrl())
                .withSlotName("pgtrickle_" + db.name())).close();

        try (Connection c = db.connect()) {
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> CascadeWatch.await(c,
                            List.of(new QualifiedName("public", "nothing")), java.time.Instant.now(),
                            java.time.Duration.ofMillis(300)))
                    .isInstanceOf(PgTrickleException.class)
                    .hasMessage("public.nothing was not refreshed within 0.30 s of the change;"
                            + " is the engine's scheduler running?")
                    .satisfies(e -> assertThat(((PgTrickleException) e).code().exitCode()).isEqualTo(6));
        }
    }

    private static String section(String text, String from, String to) {
        int start = text.indexOf(from);
        assertThat(start).as("'" + from + "' in output").isNotNegative();
        int end = text.indexOf(to, start + from.length());
        return end < 0 ? text.substring(start) : text.substring(start, end);
    }
}
