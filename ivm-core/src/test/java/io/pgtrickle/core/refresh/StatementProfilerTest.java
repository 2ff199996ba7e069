package io.pgtrickle.core.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class StatementProfilerTest {
    @Test
    void explainsQueriesDmlAndCreateTableAs() {
        assertThat(StatementProfiler.explainable("SELECT 1")).isTrue();
        assertThat(StatementProfiler.explainable("  with x AS (SELECT 1) SELECT * FROM x")).isTrue();
        assertThat(StatementProfiler.explainable("INSERT INTO t SELECT 1")).isTrue();
        assertThat(StatementProfiler.explainable("UPDATE t SET a = 1")).isTrue();
        assertThat(StatementProfiler.explainable("DELETE FROM t")).isTrue();
        assertThat(StatementProfiler.explainable("MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE")).isTrue();
        assertThat(StatementProfiler.explainable("CREATE TEMP TABLE __pgt_delta ON COMMIT DROP AS\nSELECT 1")).isTrue();
        assertThat(StatementProfiler.explainable("CREATE TABLE x AS SELECT 1")).isTrue();
    }

    @Test
    void leavesDdlCopyAndAnalyzeAlone() {
        assertThat(StatementProfiler.explainable("CREATE TEMP TABLE \"__pgt_window_1\" (xid xid8, seq bigint)"
                + " ON COMMIT DROP")).isFalse();
        assertThat(StatementProfiler.explainable("ANALYZE pg_temp.__pgt_keys")).isFalse();
        assertThat(StatementProfiler.explainable("DROP TABLE pg_temp.__pgt_merge_source")).isFalse();
        assertThat(StatementProfiler.explainable("COPY t FROM STDIN")).isFalse();
        assertThat(StatementProfiler.explainable("SELECTION")).isFalse();
    }
}
