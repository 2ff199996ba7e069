package io.pgtrickle.core.immediate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

class PlpgsqlEmitterTest {
    private static String suffixOf(String body) {
        Matcher m = Pattern.compile("__pgt_delta(_s7_[0-9a-f]+)").matcher(body);
        assertThat(m.find()).as(body).isTrue();
        return m.group(1);
    }

    @Test
    void temporaryTablesAndNamedIndexesGetTheSuffixAndAreEmptiedOrDroppedAtTheEnd() {
        PlpgsqlEmitter e = new PlpgsqlEmitter("_s7", null);
        e.execute("CREATE TEMP TABLE \"__pgt_window_5\" ON COMMIT DROP AS SELECT 1 AS weight");
        e.execute("CREATE TEMP TABLE __pgt_delta ON COMMIT DROP AS SELECT weight * 2 AS w FROM pg_temp.\"__pgt_window_5\"");
        e.execute("CREATE TEMP TABLE IF NOT EXISTS __pgt_net ON COMMIT DROP AS SELECT 1 AS id");
        e.execute("CREATE INDEX IF NOT EXISTS \"__pgt_window_5_net_key\" ON pg_temp.__pgt_net (id)");
        e.failIfPositive("SELECT count(*) FROM __pgt_delta WHERE __pgt_delta_n < 0", "it's negative");
        String body = e.finish();
        String s = suffixOf(body);
        assertThat(body).contains("pg_temp.\"__pgt_window_5" + s + "\"", "\"__pgt_window_5_net_key" + s + "\"",
                "__pgt_delta_n < 0", "it''s negative")
                .endsWith("DROP TABLE IF EXISTS pg_temp.\"__pgt_net" + s + "\";\n");
        // reused for the session: created once, filled by INSERT on later runs, emptied at the end
        assertThat(body).contains("IF to_regclass('pg_temp.__pgt_delta" + s + "') IS NULL THEN",
                "CREATE TEMP TABLE __pgt_delta" + s + " ON COMMIT DELETE ROWS AS SELECT",
                "INSERT INTO pg_temp.__pgt_delta" + s + " SELECT",
                "EXECUTE 'DELETE FROM pg_temp.\"__pgt_delta" + s + "\"'")
                .doesNotContain("DROP TABLE IF EXISTS pg_temp.\"__pgt_delta");
    }

    @Test
    void analyzingAReusedTableAgainIsLeftToLargeWindows() {
        PlpgsqlEmitter e = new PlpgsqlEmitter("_s7", null);
        e.execute("CREATE TEMP TABLE __pgt_delta ON COMMIT DROP AS SELECT 1 AS x");
        e.execute("ANALYZE pg_temp.__pgt_delta");
        e.execute("SET LOCAL default_statistics_target = 10; ANALYZE pg_temp.__pgt_delta (x); SET LOCAL"
                + " default_statistics_target TO DEFAULT");
        e.execute("ANALYZE pg_temp.__pgt_other");
        String body = e.finish();
        assertThat(body).contains("IF __pgt_rows >= 1000 THEN EXECUTE 'ANALYZE pg_temp.__pgt_delta")
                .contains("EXECUTE 'ANALYZE pg_temp.__pgt_other';");
    }

    @Test
    void aTableWhoseColumnsAStarExpandsIsNotReused() {
        PlpgsqlEmitter e = new PlpgsqlEmitter("_s7", null);
        e.execute("CREATE TEMP TABLE __pgt_delta ON COMMIT DROP AS SELECT 1 AS x");
        e.execute("CREATE TEMP TABLE __pgt_rows ON COMMIT DROP AS SELECT __pgt_r.*, 1 AS w FROM pg_temp.__pgt_delta __pgt_r");
        e.execute("CREATE TEMP TABLE __pgt_all ON COMMIT DROP AS SELECT * FROM pg_temp.__pgt_delta");
        e.execute("CREATE TEMP TABLE __pgt_image ON COMMIT DROP AS SELECT to_jsonb(n.*) AS row, count(*) AS n FROM t n");
        String body = e.finish();
        String s = suffixOf(body);
        assertThat(body).contains("DROP TABLE IF EXISTS pg_temp.\"__pgt_rows" + s + "\"",
                "DROP TABLE IF EXISTS pg_temp.\"__pgt_all" + s + "\"", "INSERT INTO pg_temp.__pgt_image" + s)
                .doesNotContain("INSERT INTO pg_temp.__pgt_rows", "INSERT INTO pg_temp.__pgt_all");
    }

    @Test
    void aChangedBodyNamesItsTablesApart() {
        PlpgsqlEmitter a = new PlpgsqlEmitter("_s7", null);
        a.execute("CREATE TEMP TABLE __pgt_delta ON COMMIT DROP AS SELECT 1 AS x");
        PlpgsqlEmitter b = new PlpgsqlEmitter("_s7", null);
        b.execute("CREATE TEMP TABLE __pgt_delta ON COMMIT DROP AS SELECT 1 AS x, 2 AS y");
        assertThat(suffixOf(a.finish())).isNotEqualTo(suffixOf(b.finish()));
    }
}
