package io.pgtrickle.core.immediate;

import static io.pgtrickle.core.immediate.ImmediateModeIT.differences;
import static io.pgtrickle.core.immediate.ImmediateModeIT.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** alter_stream_table into and out of IMMEDIATE: nothing missed, nothing applied twice, with writers running. */
@ExtendWith(PostgresExtension.class)
class ImmediateSwitchIT {
    private static final String JOIN = "SELECT e.id, e.name, d.dname FROM emp e JOIN dept d ON d.id = e.dept_id";
    private static final String AGG = "SELECT dept_id, count(*) AS n, sum(salary) AS total FROM emp GROUP BY dept_id";

    private static void assertExact(Connection c, String when) throws Exception {
        List<String> diff = new ArrayList<>(differences(c, "sw_join", JOIN));
        diff.addAll(differences(c, "sw_agg", AGG));
        assertThat(diff).as(when).isEmpty();
    }

    @Test
    void switchingBothWaysKeepsTheContentsExact(TestDatabase db) throws Exception {
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection w = db.connect()) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            ImmediateModeIT.schema(db);
            api.create(StreamTableSpec.parse("sw_join", JOIN, "1m", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("sw_agg", AGG, "1m", "DIFFERENTIAL"));
            run(w, "INSERT INTO emp VALUES (10, 'x', 1, 10)");
            api.refresh("sw_join");
            api.refresh("sw_agg");
            // changes not refreshed yet when the mode switches: the switch recomputes
            run(w, "INSERT INTO emp VALUES (11, 'y', 2, 20)");
            run(w, "UPDATE emp SET salary = 7 WHERE id = 1");

            for (String name : List.of("sw_join", "sw_agg")) {
                api.alter(name, AlterSpec.none().withRefreshMode("IMMEDIATE"));
            }
            assertExact(w, "after the switch to IMMEDIATE");
            run(w, "INSERT INTO emp VALUES (12, 'z', 1, 30)");
            run(w, "DELETE FROM emp WHERE id = 2");
            assertExact(w, "IMMEDIATE, without refresh");
            assertThat(api.refresh("sw_join").action()).isEqualTo("IMMEDIATE");
            assertExact(w, "IMMEDIATE, after an engine refresh");

            for (String name : List.of("sw_join", "sw_agg")) {
                api.alter(name, AlterSpec.none().withRefreshMode("DIFFERENTIAL"));
            }
            assertThat(db.value("SELECT count(*) FROM pg_trigger WHERE tgname LIKE '\\_\\_pgt\\_imm\\_%'")).isEqualTo(0L);
            assertExact(w, "right after the switch back");
            run(w, "INSERT INTO emp VALUES (13, 'q', 2, 40)");
            run(w, "UPDATE emp SET dept_id = 2 WHERE id = 12");
            assertThat(differences(w, "sw_join", JOIN)).as("DIFFERENTIAL waits for its refresh").isNotEmpty();
            api.refresh("sw_join");
            api.refresh("sw_agg");
            assertExact(w, "DIFFERENTIAL, after its refresh (applied once)");
            assertThat(api.find(io.pgtrickle.core.sql.QualifiedName.parse("sw_join")).orElseThrow().effectiveMode().name())
                    .isEqualTo("DIFFERENTIAL");
        }
    }

    @Test
    void writersRunningDuringTheSwitchesAreCountedOnce(TestDatabase db) throws Exception {
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection w = db.connect()) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            ImmediateModeIT.schema(db);
            api.create(StreamTableSpec.parse("sw_join", JOIN, "1m", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("sw_agg", AGG, "1m", "DIFFERENTIAL"));
            AtomicBoolean running = new AtomicBoolean(true);
            AtomicInteger next = new AtomicInteger(1000);
            List<Throwable> errors = Collections.synchronizedList(new ArrayList<>());
            Thread writer = new Thread(() -> {
                try (Connection c = db.connect()) {
                    while (running.get()) {
                        int id = next.incrementAndGet();
                        run(c, "INSERT INTO emp VALUES (" + id + ", 'w', " + (id % 3 + 1) + ", " + id + ")");
                        run(c, "UPDATE emp SET salary = salary + 1 WHERE id = " + (id - 1));
                    }
                } catch (Throwable t) {
                    errors.add(t);
                }
            });
            writer.start();
            for (int round = 0; round < 3; round++) {
                Thread.sleep(100);
                api.alter("sw_join", AlterSpec.none().withRefreshMode("IMMEDIATE"));
                api.alter("sw_agg", AlterSpec.none().withRefreshMode("IMMEDIATE"));
                Thread.sleep(100);
                api.alter("sw_join", AlterSpec.none().withRefreshMode("DIFFERENTIAL"));
                api.alter("sw_agg", AlterSpec.none().withRefreshMode("DIFFERENTIAL"));
                api.refresh("sw_join");
                api.refresh("sw_agg");
            }
            running.set(false);
            writer.join();
            assertThat(errors).isEmpty();
            assertThat(next.get()).isGreaterThan(1005);
            api.refresh("sw_join");
            api.refresh("sw_agg");
            assertExact(w, "after the writer stopped and a refresh");
        }
    }
}
