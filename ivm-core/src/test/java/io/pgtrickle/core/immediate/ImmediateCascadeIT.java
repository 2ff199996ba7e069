package io.pgtrickle.core.immediate;

import static io.pgtrickle.core.immediate.ImmediateModeIT.differences;
import static io.pgtrickle.core.immediate.ImmediateModeIT.run;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** An IMMEDIATE stream table over IMMEDIATE stream tables changes in the same writer statement. */
@ExtendWith(PostgresExtension.class)
class ImmediateCascadeIT {
    private static final String BASE = "SELECT e.id, e.salary, d.dname FROM emp e JOIN dept d ON d.id = e.dept_id";
    private static final String TOTALS = "SELECT dname, count(*) AS n, sum(salary) AS total FROM cas_base GROUP BY dname";
    private static final String BIG = "SELECT dname FROM cas_totals WHERE n > 1";

    @Test
    void dependantsUpdateInTheWritersTransaction(TestDatabase db) throws Exception {
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection w = db.connect()) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            ImmediateModeIT.schema(db);
            api.create(StreamTableSpec.parse("cas_base", BASE, "1m", "IMMEDIATE"));
            api.create(StreamTableSpec.parse("cas_totals", TOTALS, "1m", "IMMEDIATE"));
            api.create(StreamTableSpec.parse("cas_big", BIG, "1m", "IMMEDIATE"));
            w.setAutoCommit(false);
            for (String sql : List.of("INSERT INTO emp VALUES (20, 'a', 2, 5), (21, 'b', 3, 6)",
                    "UPDATE emp SET salary = salary * 2", "DELETE FROM emp WHERE id = 1",
                    "UPDATE dept SET dname = 'x' WHERE id = 2", "INSERT INTO emp VALUES (22, 'c', 3, 1)",
                    "TRUNCATE dept", "INSERT INTO dept VALUES (1, 'eng'), (3, 'three')")) {
                run(w, sql);
                List<String> diff = new ArrayList<>(differences(w, "cas_base", BASE));
                diff.addAll(differences(w, "cas_totals", "SELECT dname, count(*) AS n, sum(salary) AS total FROM ("
                        + BASE + ") b GROUP BY dname"));
                diff.addAll(differences(w, "cas_big", "SELECT dname FROM (SELECT dname, count(*) AS n FROM (" + BASE
                        + ") b GROUP BY dname) t WHERE n > 1"));
                assertThat(diff).as("after " + sql).isEmpty();
            }
            w.commit();
            w.setAutoCommit(true);
            assertThat(db.value("SELECT count(*) FROM cas_totals")).isNotEqualTo(0L);
        }
    }

    /** A DIFFERENTIAL stream table over an IMMEDIATE one: the MERGEs of its triggers are captured like any write. */
    @Test
    void aDifferentialReaderOfAnImmediateStreamTableRefreshesFromItsChanges(TestDatabase db) throws Exception {
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection w = db.connect()) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            ImmediateModeIT.schema(db);
            api.create(StreamTableSpec.parse("cas_base", BASE, "1m", "IMMEDIATE"));
            api.create(StreamTableSpec.parse("cas_totals", TOTALS, "1m", "DIFFERENTIAL"));
            String expanded = "SELECT dname, count(*) AS n, sum(salary) AS total FROM (" + BASE + ") b GROUP BY dname";
            for (String sql : List.of("INSERT INTO emp VALUES (20, 'a', 2, 5), (21, 'b', 3, 6)",
                    "UPDATE emp SET salary = salary * 2", "DELETE FROM emp WHERE id = 1",
                    "UPDATE dept SET dname = 'x' WHERE id = 2")) {
                run(w, sql);
                assertThat(api.refresh("cas_totals").action()).isEqualTo("DIFFERENTIAL");
                assertThat(differences(w, "cas_totals", expanded)).as("after " + sql).isEmpty();
            }
        }
    }

    /**
     * A diamond: cas_diamond reads emp directly and through cas_rich (also over emp). Its own
     * trigger on emp must fire before cas_rich's, whose MERGE then fires cas_diamond's trigger.
     */
    @Test
    void aDiamondOverOneSourceStaysExact(TestDatabase db) throws Exception {
        try (PgTrickleEngine engine = EngineFixture.open(db); Connection w = db.connect()) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            ImmediateModeIT.schema(db);
            String rich = "SELECT id, dept_id FROM emp WHERE salary >= 100";
            String diamond = "SELECT e.id, e.name, r.id AS rich_peer FROM emp e JOIN cas_rich r ON r.dept_id = e.dept_id";
            // created in an order that would fire cas_rich's trigger first if ids decided it
            api.create(StreamTableSpec.parse("cas_rich", rich, "1m", "IMMEDIATE"));
            api.create(StreamTableSpec.parse("cas_diamond", diamond, "1m", "IMMEDIATE"));
            String expanded = "SELECT e.id, e.name, r.id AS rich_peer FROM emp e JOIN (" + rich + ") r ON r.dept_id = e.dept_id";
            for (String sql : List.of("INSERT INTO emp VALUES (30, 'r', 1, 500), (31, 'p', 1, 1)",
                    "UPDATE emp SET salary = 1000 WHERE id = 3", "UPDATE emp SET dept_id = 2 WHERE id = 30",
                    "DELETE FROM emp WHERE id = 2", "TRUNCATE emp", "INSERT INTO emp VALUES (1, 'a', 1, 200), (2, 'b', 1, 300)")) {
                run(w, sql);
                List<String> diff = new ArrayList<>(differences(w, "cas_rich", rich));
                diff.addAll(differences(w, "cas_diamond", expanded));
                assertThat(diff).as("after " + sql).isEmpty();
            }
        }
    }
}
