package io.pgtrickle.core.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOrderBy;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.dialect.PostgresqlSqlDialect;
import org.apache.calcite.sql.parser.SqlParseException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What PostgreSQL syntax the IVM compiler's parser (Calcite Babel plus {@link PostgresRewriter})
 * accepts, and that {@link QueryParser#toPostgres} gives it back. A query it cannot parse is still a
 * valid stream table: AUTO maintains it FULL and explain says why. Moving a line from the second
 * list to the first is progress; the reverse is a regression. {@code UnparseRoundTripIT} checks on
 * a real PostgreSQL that the unparsed text means the same.
 */
class SyntaxCorpusTest {
    private final QueryParser parser = new QueryParser();

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT a, b FROM t WHERE a > 1",
            "SELECT x::numeric(10,2) AS y FROM t",
            "SELECT CAST(x AS text) AS y FROM t",
            "SELECT name FROM t WHERE name ILIKE 'a%'",
            "SELECT name FROM t WHERE name NOT ILIKE 'a%' AND name SIMILAR TO '(a|b)%'",
            "SELECT a FROM t WHERE a IS DISTINCT FROM b",
            "SELECT count(*) FILTER (WHERE a > 1) AS n FROM t",
            "SELECT count(DISTINCT a) AS n FROM t",
            "SELECT k, string_agg(v, ',' ORDER BY v) AS s FROM t GROUP BY k",
            "SELECT k, array_agg(v ORDER BY v DESC NULLS FIRST) AS s FROM t GROUP BY k",
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
            "SELECT extract(year from d) AS y, EXTRACT(EPOCH FROM ts) AS e FROM t",
            "SELECT substring(s from 1 for 3) AS a, position('a' in s) AS b, s || 'x' AS c FROM t",
            "SELECT INTERVAL '1' DAY AS i FROM t",
            "SELECT a FROM t ORDER BY a LIMIT 10",
            "SELECT arr[1] AS first FROM t",
            "SELECT e.a, d.b FROM t e LEFT JOIN u d ON d.id = e.id",
            "SELECT interval '5 minutes' AS i FROM t",
            "SELECT now() - interval '1 day' AS i FROM t",
            "SELECT date '2024-01-01' AS d, timestamp '2024-01-01 10:00' AS ts, timestamptz '2024-01-01 10:00+00' AS tz FROM t",
            "SELECT x::interval AS i, x::text[] AS a, x::double precision AS d, CAST(x AS int[]) AS c FROM t",
            "SELECT ARRAY[1, 2] AS a, '{\"a\":1}'::jsonb AS j FROM t",
            "SELECT a FROM t WHERE x = ANY(arr)",
            "SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b",
            "SELECT doc ->> 'k' AS v FROM t",
            "SELECT doc -> 'k' AS v FROM t",
            "SELECT doc #> '{a,b}' AS v, doc #>> '{a,b}' AS w FROM t",
            "SELECT a FROM t WHERE tags @> ARRAY['x']",
            "SELECT a FROM t WHERE tags <@ ARRAY['x'] OR tags && ARRAY['y']",
            "SELECT a FROM t WHERE doc ? 'k' OR doc ?| ARRAY['a'] OR doc ?& ARRAY['b']",
            "SELECT ts AT TIME ZONE 'UTC' AS u FROM t",
            "SELECT a FROM t WHERE a ISNULL OR b NOTNULL",
            "SELECT $$it's$$ AS s FROM t",
            "SELECT * FROM generate_series(1, 3) AS g(x)",
            "SELECT a FROM t WHERE b = ?",
            "SELECT k, json_agg(v ORDER BY v DESC) AS j, jsonb_agg(DISTINCT v ORDER BY v) AS d FROM t GROUP BY k",
            "SELECT k, json_agg(v ORDER BY v) FILTER (WHERE v > 0) AS j FROM t GROUP BY k",
            "SELECT JSON_OBJECT('k' : v, 'w' VALUE w ABSENT ON NULL) AS j, JSON_ARRAY(v, w) AS a FROM t",
            "SELECT k, JSON_OBJECTAGG(k : v) AS o, JSON_ARRAYAGG(v ORDER BY v NULL ON NULL) AS a FROM t GROUP BY k",
            "SELECT s IS JSON AS j, s IS NOT JSON OBJECT AS o FROM t",
            "SELECT (c).a AS a FROM t",
            "SELECT r.sku, r.qty FROM t, jsonb_to_recordset(t.doc -> 'items') AS r(sku text, qty int)",
            "SELECT r.* FROM t CROSS JOIN LATERAL jsonb_to_record(t.doc) r(a int, \"B c\" numeric(10, 2), d text[])",
            "SELECT r.a FROM t LEFT JOIN LATERAL json_to_recordset(t.j) AS r(a int) ON true",
            "SELECT * FROM t, json_to_record(t.j) AS (a int, b timestamp with time zone)",
    })
    void parses(String sql) throws SqlParseException {
        assertThat(parser.parse(sql)).isNotNull();
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT arr[1:2] AS slice FROM t",
            "SELECT a FROM t WHERE s COLLATE \"C\" > 'a'",
            "SELECT ROW(a, b) AS r FROM t",
            "SELECT a FROM t WHERE s LIKE ANY (ARRAY['a%', 'b%'])",
            "SELECT a FROM ONLY t",
            "SELECT a FROM t, ONLY u",
            "SELECT @ a AS v FROM t",
            "SELECT mytype 'literal' AS v FROM t",
    })
    void doesNotParseYetAndFallsBackToFull(String sql) {
        assertThatThrownBy(() -> parser.parse(sql)).isInstanceOf(SqlParseException.class);
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " ==> ", quoteCharacter = '`', value = {
            "SELECT doc ->> 'k' AS v FROM t ==> (\"doc\" ->> 'k')",
            "SELECT doc -> 'k' AS v FROM t ==> (\"doc\" -> 'k')",
            "SELECT doc #> '{a}' AS v FROM t ==> (\"doc\" #> '{a}')",
            "SELECT doc #>> '{a}' AS v FROM t ==> (\"doc\" #>> '{a}')",
            "SELECT a FROM t WHERE doc @> '{}' ==> (\"doc\" @> '{}')",
            "SELECT a FROM t WHERE doc <@ '{}' ==> (\"doc\" <@ '{}')",
            "SELECT a FROM t WHERE doc ? 'k' ==> (\"doc\" ? 'k')",
            "SELECT a FROM t WHERE doc ?| ARRAY['k'] ==> (\"doc\" ?| (ARRAY['k']))",
            "SELECT a FROM t WHERE doc ?& ARRAY['k'] ==> (\"doc\" ?& (ARRAY['k']))",
            "SELECT a FROM t WHERE tags && ARRAY['k'] ==> (\"tags\" && (ARRAY['k']))",
            "SELECT interval '5 minutes' AS i FROM t ==> interval '5 minutes'",
            "SELECT timestamptz '2024-01-01' AS i FROM t ==> timestamptz '2024-01-01'",
            "SELECT x::text[] AS y FROM t ==> CAST(\"x\" AS text[])",
            "SELECT x::double precision AS y FROM t ==> CAST(\"x\" AS double precision)",
            "SELECT ts AT TIME ZONE 'UTC' AS u FROM t ==> (\"ts\" AT TIME ZONE 'UTC')",
            "SELECT DISTINCT ON (a, b) a, b, c FROM t ==> SELECT DISTINCT ON (\"a\", \"b\") \"a\", \"b\", \"c\" FROM",
            "SELECT $$it's$$ AS s FROM t ==> 'it''s'",
            "SELECT E'back\\\\slash' AS s FROM t ==> E'back\\\\slash'",
            "SELECT * FROM generate_series(1, 3) AS g(x) ==> FROM \"generate_series\"(1, 3) AS \"g\"",
            "SELECT k, json_agg(v ORDER BY v DESC) AS j FROM t GROUP BY k ==> \"json_agg\"(\"v\" ORDER BY \"v\" DESC)",
            "SELECT k, string_agg(v, ',' ORDER BY v) AS j FROM t GROUP BY k ==> STRING_AGG(\"v\", ',' ORDER BY \"v\")",
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY v) AS m FROM t ==> WITHIN GROUP (ORDER BY \"v\")",
            "SELECT JSON_OBJECT('k' : v) AS j FROM t ==> JSON_OBJECT('k' VALUE \"v\" NULL ON NULL)",
            "SELECT JSON_OBJECT(k || 'x' : v ABSENT ON NULL) AS j FROM t ==> JSON_OBJECT(((\"k\" || 'x')) VALUE \"v\" ABSENT ON NULL)",
            "SELECT k, JSON_OBJECTAGG(k : v) AS j FROM t GROUP BY k ==> JSON_OBJECTAGG(\"k\" VALUE \"v\" NULL ON NULL)",
            "SELECT k, JSON_ARRAYAGG(v ORDER BY w) AS j FROM t GROUP BY k ==> JSON_ARRAYAGG(\"v\" ORDER BY \"w\" ABSENT ON NULL)",
            "SELECT (c).a AS a FROM t ==> (\"c\").\"a\"",
            "SELECT x.item FROM t CROSS JOIN LATERAL jsonb_array_elements(t.doc -> 'items') AS x(item)"
                    + " ==> CROSS JOIN \"jsonb_array_elements\"((\"t\".\"doc\" -> 'items')) AS \"x\" (\"item\")",
            "SELECT g.i FROM t JOIN LATERAL generate_series(1, t.n) AS g(i) ON true"
                    + " ==> INNER JOIN \"generate_series\"(1, \"t\".\"n\") AS \"g\" (\"i\") ON TRUE",
            "SELECT * FROM t, jsonb_array_elements(upper(t.doc)) e ==> \"jsonb_array_elements\"(UPPER(\"t\".\"doc\")) AS \"e\"",
            "SELECT * FROM t, LATERAL unnest(t.tags) WITH ORDINALITY u(tag, n)"
                    + " ==> UNNEST(\"t\".\"tags\") WITH ORDINALITY AS \"u\" (\"tag\", \"n\")",
            "SELECT extract(epoch from now()) AS e FROM t ==> EXTRACT(EPOCH FROM",
            "SELECT r.sku FROM t, jsonb_to_recordset(t.doc -> 'items') AS r(sku text, qty int)"
                    + " ==> \"jsonb_to_recordset\"((\"t\".\"doc\" -> 'items')) AS \"r\" (\"sku\" text, \"qty\" int)",
            "SELECT r.a FROM t CROSS JOIN LATERAL jsonb_to_record(t.doc) r(A int, \"B c\" numeric(10,2), d text [ ])"
                    + " ==> AS \"r\" (\"a\" int, \"B c\" numeric(10, 2), \"d\" text[])",
            "SELECT r.a FROM t LEFT JOIN LATERAL json_to_recordset(t.j) AS r(a int) ON true"
                    + " ==> LEFT JOIN \"json_to_recordset\"(\"t\".\"j\") AS \"r\" (\"a\" int) ON TRUE",
            "SELECT * FROM t, json_to_record(t.j) AS (a int) ==> \"json_to_record\"(\"t\".\"j\") AS \"json_to_record\" (\"a\" int)",
    })
    void toPostgresRestoresThePostgresSyntax(String sql, String expected) throws SqlParseException {
        assertThat(QueryParser.toPostgres(parser.parse(sql))).contains(expected);
    }

    @Test
    void columnDefinitionListKeepsTheNamesAsColumnAliasesAndTheTypes() throws SqlParseException {
        SqlSelect select = (SqlSelect) parser.parse(
                "SELECT r.sku FROM t, jsonb_to_recordset(t.doc) AS r(Sku text, \"Qty\" numeric(10, 2))");
        SqlBasicCall as = (SqlBasicCall) ((org.apache.calcite.sql.SqlJoin) select.getFrom()).getRight();

        assertThat(as.operandCount()).isEqualTo(4);
        PostgresDialect.ColumnDefinition sku = (PostgresDialect.ColumnDefinition) as.operand(2);
        PostgresDialect.ColumnDefinition qty = (PostgresDialect.ColumnDefinition) as.operand(3);
        assertThat(sku.getSimple()).isEqualTo("sku");
        assertThat(sku.type()).isEqualTo("text");
        assertThat(qty.getSimple()).isEqualTo("Qty");
        assertThat(qty.type()).isEqualTo("numeric(10, 2)");
        assertThat(QueryParser.toPostgres(as.clone(as.getParserPosition())))
                .endsWith("AS \"r\" (\"sku\" text, \"Qty\" numeric(10, 2))");
        assertThat(as.toSqlString(PostgresqlSqlDialect.DEFAULT).getSql()).contains("(\"sku\" text, \"Qty\" numeric(10, 2))");
    }

    @Test
    void jsonOperatorsBindTighterThanComparisonAndAssociateLeft() throws SqlParseException {
        SqlSelect select = (SqlSelect) parser.parse("SELECT a FROM t WHERE a -> 'x' ->> 'y' = 'z'");

        SqlCall equals = (SqlCall) select.getWhere();
        assertThat(equals.getKind()).isEqualTo(SqlKind.EQUALS);
        SqlCall getText = equals.operand(0);
        assertThat(getText.getOperator().getName()).isEqualTo("->>");
        SqlCall get = getText.operand(0);
        assertThat(get.getOperator().getName()).isEqualTo("->");
        assertThat(get.operand(0).toString()).isEqualTo("a");
        assertThat(QueryParser.toPostgres(equals)).isEqualTo("(((\"a\" -> 'x') ->> 'y') = 'z')");
    }

    @Test
    void arithmeticAroundJsonOperatorsGroupsAsInPostgres() throws SqlParseException {
        // PostgreSQL: + binds tighter than ->>, and ->> with || is left to right at one level.
        assertThat(where("SELECT a FROM t WHERE 1 + doc ->> 'k' || 'x' = 'y'"))
                .isEqualTo("((((1 + \"doc\") ->> 'k') || 'x') = 'y')");
        assertThat(where("SELECT a FROM t WHERE doc ->> 'k' + 1 IS NULL"))
                .isEqualTo("((\"doc\" ->> ('k' + 1)) IS NULL)");
    }

    @Test
    void operatorsCalciteRanksDifferentlyKeepPostgresGrouping() throws SqlParseException {
        // Calcite alone reads these as (a * b) ^ 2, (a || b) + 1, a ~ (b || c) and (ts >= d)::date.
        assertThat(item("SELECT a * b ^ 2 AS v FROM t")).isEqualTo("(\"a\" * (\"b\" ^ 2))");
        assertThat(item("SELECT a || b + 1 AS v FROM t")).isEqualTo("(\"a\" || (\"b\" + 1))");
        assertThat(item("SELECT a ~ b || c AS v FROM t")).isEqualTo("((\"a\" ~ \"b\") || \"c\")");
        assertThat(where("SELECT a FROM t WHERE ts >= '2024-01-01'::date"))
                .isEqualTo("(\"ts\" >= CAST('2024-01-01' AS date))");
    }

    @Test
    void distinctOnIsKeptOutsideTheSelectList() throws SqlParseException {
        SqlOrderBy ordered = (SqlOrderBy) parser.parse("SELECT DISTINCT ON (doc ->> 'k', b) a, b FROM t ORDER BY 1");
        SqlSelect select = (SqlSelect) ordered.query;

        assertThat(select.getSelectList()).hasSize(2);
        assertThat(select.isDistinct()).isFalse();
        List<SqlNode> on = QueryParser.distinctOn(select);
        assertThat(on).hasSize(2);
        assertThat(QueryParser.toPostgres(on.get(0))).isEqualTo("(\"doc\" ->> 'k')");
        assertThat(QueryParser.toPostgres(ordered))
                .startsWith("SELECT DISTINCT ON ((\"doc\" ->> 'k'), \"b\") \"a\", \"b\" FROM \"t\"");
    }

    @Test
    void aSelectWithoutDistinctOnHasNone() throws SqlParseException {
        SqlSelect select = (SqlSelect) parser.parse("SELECT DISTINCT a FROM t");

        assertThat(QueryParser.distinctOn(select)).isEmpty();
        assertThat(select.isDistinct()).isTrue();
        assertThat(QueryParser.toPostgres(select)).isEqualTo("SELECT DISTINCT \"a\" FROM \"t\"");
    }

    @Test
    void typedLiteralIsACastOfTheString() throws SqlParseException {
        SqlCall cast = (SqlCall) ((SqlBasicCall) ((SqlSelect) parser.parse("SELECT interval '5 minutes' AS i FROM t"))
                .getSelectList().get(0)).operand(0);

        assertThat(cast.getKind()).isEqualTo(SqlKind.CAST);
        assertThat(cast.operand(0).toString()).isEqualTo("'5 minutes'");
        assertThat(QueryParser.toPostgres(cast)).isEqualTo("interval '5 minutes'");
    }

    @Test
    void rewrittenNodesPrintAsPostgresInCalcitesOwnDialectToo() throws SqlParseException {
        String sql = parser.parse("SELECT x::text[] AS a, doc ->> 'k' AS b, interval '1 day' AS c FROM t")
                .toSqlString(PostgresqlSqlDialect.DEFAULT).getSql();

        assertThat(sql).contains("CAST(\"x\" AS text[])", "\"doc\" ->> 'k'", "CAST('1 day' AS interval)");
    }

    @Test
    void questionMarkWhereAnOperandBelongsStaysAJdbcParameter() throws SqlParseException {
        SqlCall where = (SqlCall) ((SqlSelect) parser.parse("SELECT a FROM t WHERE b = ? AND doc ? 'k'")).getWhere();

        assertThat(((SqlCall) where.operand(0)).operand(1).getKind()).isEqualTo(SqlKind.DYNAMIC_PARAM);
        assertThat(((SqlCall) where.operand(1)).getOperator().getName()).isEqualTo("?");
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " ==> ", quoteCharacter = '`', value = {
            "SELECT doc ->> FROM t ==> needs a right operand",
            "SELECT (a) WHERE ->> 'k' ==> needs a left operand",
            "SELECT - ts AT TIME ZONE 'UTC' FROM t ==> parenthesise it",
            "SELECT \"__pgt_syn_op:->>\"(a, 'k') FROM t ==> reserved",
            "SELECT 'open FROM t ==> unterminated string literal",
    })
    void unsupportedShapesFailWithAReason(String sql, String reason) {
        assertThatThrownBy(() -> parser.parse(sql)).isInstanceOf(SqlParseException.class).hasMessageContaining(reason);
    }

    private String where(String sql) throws SqlParseException {
        return QueryParser.toPostgres(((SqlSelect) parser.parse(sql)).getWhere());
    }

    private String item(String sql) throws SqlParseException {
        SqlBasicCall as = (SqlBasicCall) ((SqlSelect) parser.parse(sql)).getSelectList().get(0);
        return QueryParser.toPostgres(as.operand(0));
    }
}
