package io.pgtrickle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** pg_stat_stream_tables, dependency_tree(), refresh_timeline() and health_check(). */
@ExtendWith(PostgresExtension.class)
class MonitoringIT {
    @Test
    void monitoringShowsStatsTheDagTheTimelineAndProblems(TestDatabase db) {
        db.execute("CREATE TABLE t (k int, v int)", "INSERT INTO t VALUES (1, 1), (2, 2)",
                "CREATE TABLE gone (x int)");
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            api.create(StreamTableSpec.parse("base_st", "SELECT k, sum(v) AS s FROM t GROUP BY k", "calculated", null));
            api.create(StreamTableSpec.parse("mid_st", "SELECT count(*) AS n FROM base_st", "calculated", null));
            api.create(StreamTableSpec.parse("top_st", "SELECT n * 2 AS n2 FROM mid_st", "1m", null));
            api.create(StreamTableSpec.of("broken_st", "SELECT x FROM gone"));
            api.refresh("base_st");
            db.execute("DROP TABLE gone");
            assertThatThrownBy(() -> api.refresh("broken_st")).hasMessageContaining("does not exist");

            assertThat(db.rows("SELECT pgt_name, total_refreshes, successful_refreshes, failed_refreshes "
                    + "FROM pgtrickle.pg_stat_stream_tables ORDER BY 1")).containsExactly(
                    List.of("public.base_st", 2L, 2L, 0L), List.of("public.broken_st", 2L, 1L, 1L),
                    List.of("public.mid_st", 1L, 1L, 0L), List.of("public.top_st", 1L, 1L, 0L));

            assertThat(db.rows("SELECT name, depth, path FROM pgtrickle.dependency_tree()")).containsExactly(
                    List.of("public.base_st", 0, "public.base_st"),
                    List.of("public.mid_st", 1, "public.base_st > public.mid_st"),
                    List.of("public.top_st", 2, "public.base_st > public.mid_st > public.top_st"),
                    List.of("public.broken_st", 0, "public.broken_st"));

            assertThat(db.rows("SELECT name, trigger, status FROM pgtrickle.refresh_timeline(2)")).containsExactly(
                    List.of("public.broken_st", "MANUAL", "FAILED"), List.of("public.base_st", "MANUAL", "SUCCESS"));

            assertThat(db.rows("SELECT check_name, severity FROM pgtrickle.health_check() ORDER BY 1"))
                    .containsExactly(List.of("engine_running", "WARNING"), List.of("refresh_errors", "ERROR"));

            engine.start();
            api.drop("broken_st");
            assertThat(db.rows("SELECT check_name, severity FROM pgtrickle.health_check()"))
                    .containsExactly(List.of("all", "OK"));
        }
    }
}
