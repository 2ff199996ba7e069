package io.pgtrickle.core.immediate;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PlpgsqlEmitterTest {
    @Test
    void temporaryTablesAndNamedIndexesGetTheSuffixAndAreDroppedAtTheEnd() {
        PlpgsqlEmitter e = new PlpgsqlEmitter("_s7", null);
        e.execute("CREATE TEMP TABLE \"__pgt_window_5\" ON COMMIT DROP AS SELECT 1 AS weight");
        e.execute("CREATE TEMP TABLE __pgt_delta ON COMMIT DROP AS SELECT * FROM pg_temp.\"__pgt_window_5\"");
        e.execute("CREATE INDEX IF NOT EXISTS \"__pgt_window_5_net_key\" ON pg_temp.__pgt_delta (id)");
        e.execute("CREATE INDEX ON __pgt_delta (x)");
        e.failIfPositive("SELECT count(*) FROM __pgt_delta WHERE __pgt_delta_n < 0", "it's negative");
        String body = e.finish();
        assertThat(body).contains("pg_temp.\"__pgt_window_5_s7\"", "__pgt_delta_s7 (x)", "\"__pgt_window_5_net_key_s7\"",
                "__pgt_delta_n < 0", "CREATE INDEX ON", "it''s negative")
                .doesNotContain("ON_s7")
                .endsWith("DROP TABLE IF EXISTS pg_temp.\"__pgt_window_5_s7\";\nDROP TABLE IF EXISTS pg_temp.\"__pgt_delta_s7\";\n");
    }
}
