package io.pgtrickle.core.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.calcite.sql.parser.SqlParseException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What PostgreSQL syntax the IVM compiler's parser (Calcite Babel) accepts today. A query it cannot
 * parse is still a valid stream table: AUTO maintains it FULL and explain says why. Moving a line
 * from the second list to the first is progress; the reverse is a regression.
 */
class SyntaxCorpusTest {
    private final QueryParser parser = new QueryParser();

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT a, b FROM t WHERE a > 1",
            "SELECT x::numeric(10,2) AS y FROM t",
            "SELECT CAST(x AS text) AS y FROM t",
            "SELECT name FROM t WHERE name ILIKE 'a%'",
            "SELECT a FROM t WHERE a IS DISTINCT FROM b",
            "SELECT count(*) FILTER (WHERE a > 1) AS n FROM t",
            "SELECT count(DISTINCT a) AS n FROM t",
            "SELECT k, string_agg(v, ',' ORDER BY v) AS s FROM t GROUP BY k",
            "SELECT coalesce(a, 0) AS a, nullif(b, 0) AS b, greatest(a, b) AS g FROM t",
            "SELECT CASE WHEN a > 0 THEN 'p' ELSE 'n' END AS s FROM t",
            "SELECT a FROM t WHERE a IN (1, 2, 3) AND b BETWEEN 1 AND 9",
            "SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.a = t.a)",
            "SELECT a, rank() OVER (PARTITION BY b ORDER BY c) AS r FROM t",
            "SELECT a FROM t UNION ALL SELECT a FROM u",
            "WITH x AS (SELECT a FROM t) SELECT a FROM x",
            "WITH RECURSIVE r AS (SELECT 1 AS n UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r",
            "SELECT a, b, sum(c) AS s FROM t GROUP BY ROLLUP (a, b)",
            "SELECT split_part(p, ' > ', 2) AS d FROM t",
            "SELECT date_trunc('day', ts) AS d FROM t",
            "SELECT INTERVAL '1' DAY AS i FROM t",
            "SELECT a FROM t ORDER BY a LIMIT 10",
            "SELECT arr[1] AS first FROM t",
            "SELECT e.a, d.b FROM t e LEFT JOIN u d ON d.id = e.id",
    })
    void parses(String sql) throws SqlParseException {
        assertThat(parser.parse(sql)).isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT interval '5 minutes' AS i FROM t",
            "SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b",
            "SELECT doc ->> 'k' AS v FROM t",
            "SELECT doc -> 'k' AS v FROM t",
            "SELECT a FROM t WHERE tags @> ARRAY['x']",
    })
    void doesNotParseYetAndFallsBackToFull(String sql) {
        assertThatThrownBy(() -> parser.parse(sql)).isInstanceOf(SqlParseException.class);
    }
}
