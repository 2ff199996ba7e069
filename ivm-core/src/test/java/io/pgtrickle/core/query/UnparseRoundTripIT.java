package io.pgtrickle.core.query;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.calcite.sql.parser.SqlParseException;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * PostgreSQL gives the same rows for a query as written and for {@code toPostgres(parse(query))}:
 * the parser's rewrites and the unparse keep the meaning, operator grouping included.
 */
@ExtendWith(PostgresExtension.class)
class UnparseRoundTripIT {
    private final QueryParser parser = new QueryParser();
    private final TestDatabase db;

    UnparseRoundTripIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void tables(TestDatabase db) {
        db.execute("CREATE TABLE rt (id int PRIMARY KEY, n int, s text, amount numeric(10,2), ts timestamptz,"
                        + " doc jsonb, tags text[])",
                "INSERT INTO rt VALUES"
                        + " (1, 1, 'abc', 10.50, '2024-01-01 10:00+00',"
                        + "  '{\"name\":\"one\",\"kind\":\"k1\",\"qty\":\"3\",\"a\":{\"b\":\"x\"},\"tags\":[\"x\",\"y\"],"
                        + "  \"items\":[{\"sku\":\"s1\",\"Qty\":2.5},{\"sku\":\"s2\"}]}',"
                        + "  ARRAY['x','y']),"
                        + " (2, 2, 'bcd', NULL, '2024-06-30 23:30+00',"
                        + "  '{\"name\":\"two\",\"kind\":\"k2\",\"qty\":\"5\",\"a\":{\"b\":\"z\"},\"tags\":[\"z\"]}',"
                        + "  ARRAY['y']),"
                        + " (3, NULL, NULL, 0.01, NULL, '{\"name\":\"three\",\"a\":1}', NULL),"
                        + " (4, 3, 'cab', 99.99, '2023-12-31 00:00+00', NULL, ARRAY[]::text[]),"
                        + " (5, 2, 'abc', -5.00, '2025-02-28 12:00+00', '{\"kind\":\"k1\",\"qty\":\"7\",\"tags\":[]}',"
                        + "  ARRAY['x',NULL]),"
                        + " (6, 1, 'a%b', 1.00, '2024-01-01 00:00+00', '{\"kind\":\"k2\",\"name\":null}', ARRAY['q'])",
                "CREATE TABLE rt_other (id int PRIMARY KEY, doc jsonb, label text)",
                "INSERT INTO rt_other VALUES (1, '{\"ref\":\"1\"}', 'first'), (2, '{\"ref\":\"2\"}', 'second'),"
                        + " (3, '{\"ref\":\"9\"}', NULL), (4, NULL, 'none')");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            // JSON and containment operators
            "SELECT id, doc ->> 'name' AS name, doc -> 'tags' -> 0 AS first_tag FROM rt",
            "SELECT id FROM rt WHERE doc -> 'a' ->> 'b' = 'x'",
            "SELECT id, doc#>'{a,b}' AS ab, doc #>> '{a,b}' AS ab_text, doc->'tags'->>-1 AS last_tag FROM rt",
            "SELECT id FROM rt WHERE doc @> '{\"kind\":\"k1\"}' OR '{\"kind\":\"k2\"}'::jsonb <@ doc",
            "SELECT id, doc ? 'kind' AS has_kind, doc ?| ARRAY['a','kind'] AS any_key, doc ?& ARRAY['a','name'] AS all_keys FROM rt",
            "SELECT id, (doc ->> 'qty')::int + 1 AS q1, doc -> 'qty' IS NULL AS missing FROM rt",
            "SELECT id, doc || '{\"extra\":1}'::jsonb ->> 'extra' AS extra, doc ->> 'name' || '!' AS shout FROM rt",
            "SELECT id, '{\"a\":1}'::jsonb || doc AS merged, doc #- '{a}' AS without_a FROM rt",
            "SELECT doc ->> 'kind' AS kind, count(*) AS n, sum((doc ->> 'qty')::numeric) AS q FROM rt"
                    + " GROUP BY doc ->> 'kind' HAVING count(*) >= 1",
            "SELECT id, CASE WHEN doc ? 'kind' THEN doc ->> 'kind' WHEN n > 1 THEN 'big' ELSE 'other' END AS c FROM rt",
            "SELECT r.id, o.label FROM rt r JOIN rt_other o ON o.doc ->> 'ref' = r.id::text",
            "SELECT r.id, o.label, CASE r.doc ->> 'kind' WHEN 'k1' THEN 1 ELSE 0 END AS k1 FROM rt r"
                    + " LEFT JOIN rt_other o ON o.doc ->> 'ref' = r.id::text WHERE r.doc ->> 'kind' = ANY(ARRAY['k1', 'k2'])",
            "SELECT id FROM rt WHERE EXISTS (SELECT 1 FROM rt_other o WHERE o.doc @> jsonb_build_object('ref', rt.id::text))",
            "SELECT rt.id, e.k, e.v FROM rt, jsonb_each_text(rt.doc) AS e(k, v)",
            // functions returning record, with a column definition list
            "SELECT rt.id, r.name, r.qty, r.kind FROM rt, jsonb_to_record(rt.doc) AS r(name text, qty int, kind varchar(5))",
            "SELECT rt.id, r.* FROM rt CROSS JOIN LATERAL jsonb_to_recordset(rt.doc -> 'items') r(sku text, \"Qty\" numeric(10,2))",
            "SELECT rt.id, r.x FROM rt LEFT JOIN LATERAL json_to_recordset(('[{\"x\":' || rt.id || '}]')::json) AS r(x int) ON true",
            "SELECT rt.id, json_to_record.kind FROM rt, json_to_record(rt.doc::json) AS (kind text, name text)",
            "WITH k AS (SELECT id, doc -> 'a' AS a FROM rt) SELECT id, a ->> 'b' AS b FROM k",
            "SELECT id, sum(n) OVER (PARTITION BY doc ->> 'kind' ORDER BY id) AS running FROM rt",
            // DISTINCT ON
            "SELECT DISTINCT ON (doc ->> 'kind') doc ->> 'kind' AS kind, id FROM rt ORDER BY doc ->> 'kind', id DESC",
            "SELECT DISTINCT ON (n, s) n, s, id FROM rt ORDER BY n, s, id",
            // typed literals, intervals, time zones
            "SELECT id, interval '5 minutes' AS i, ts + interval '1 day' AS tomorrow FROM rt",
            "SELECT id FROM rt WHERE ts > now() - interval '100 years'",
            "SELECT id, date '2024-01-01' + n AS d, timestamptz '2024-01-01 10:00+00' AS t0,"
                    + " timestamp '2024-01-01 10:00' AS t1, INTERVAL '2' HOUR AS h FROM rt",
            "SELECT id, ts AT TIME ZONE 'UTC' AS utc, (ts AT TIME ZONE 'UTC')::date AS day,"
                    + " ts AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Tokyo' AS tokyo FROM rt",
            "SELECT id, (ts - interval '1 hour')::date AS d, x::interval AS iv FROM (SELECT id, ts, '1 day'::text AS x FROM rt) q",
            "SELECT id, extract(year FROM ts) AS y, EXTRACT(EPOCH FROM ts) AS e, date_trunc('day', ts) AS d FROM rt",
            // arrays and casts
            "SELECT id, tags::text[] AS t, '{1,2}'::int[] AS ints, ARRAY[n, id] AS pair, tags[1] AS first FROM rt",
            "SELECT id FROM rt WHERE 'x' = ANY(tags) OR tags @> ARRAY['q'] OR tags && ARRAY['y']",
            "SELECT id, amount::double precision AS d, amount::numeric(12,3) AS a3, n::bigint AS b,"
                    + " CAST(n AS double precision) AS c FROM rt",
            "SELECT id FROM rt WHERE ts >= '2024-01-01'::date",
            // strings, patterns, NULL handling
            "SELECT id, coalesce(s, 'none') AS s2 FROM rt WHERE s ILIKE 'A%' OR s NOT ILIKE '%b%' OR s SIMILAR TO '(a|c)%'",
            "SELECT id, substring(s from 1 for 2) AS sub, position('b' in s) AS pos, s || '-' || id AS tag FROM rt",
            "SELECT id, $$it's$$ AS q, E'a\\tb' AS e, 'back\\slash' AS b FROM rt",
            "SELECT id FROM rt WHERE n IS DISTINCT FROM 2 AND s IS NOT DISTINCT FROM s",
            "SELECT id, n NOTNULL AS has_n, s ISNULL AS no_s FROM rt",
            // aggregates
            "SELECT count(*) FILTER (WHERE n > 1) AS big, count(*) AS all_rows FROM rt",
            "SELECT s, string_agg(id::text, ',' ORDER BY n NULLS FIRST, id) AS ids,"
                    + " array_agg(n ORDER BY n DESC NULLS LAST, id) AS ns FROM rt GROUP BY s",
            "SELECT s, json_agg(n ORDER BY id DESC)::text AS j, jsonb_agg(id ORDER BY n NULLS FIRST, id) AS jb,"
                    + " array_agg(DISTINCT n ORDER BY n) AS ns FROM rt GROUP BY s",
            "SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY n) AS m, mode() WITHIN GROUP (ORDER BY s) AS top FROM rt",
            // SQL/JSON constructors and predicates (json has no equality: compared as text)
            "SELECT id, JSON_OBJECT('k' : n, 's' VALUE s)::text AS o, JSON_OBJECT('n' VALUE n ABSENT ON NULL)::text AS a,"
                    + " JSON_OBJECT(s || '!' : id)::text AS e FROM rt WHERE s IS NOT NULL",
            "SELECT id, JSON_ARRAY(n, s)::text AS a, JSON_ARRAY(n, s NULL ON NULL)::text AS b FROM rt",
            "SELECT n, JSON_OBJECTAGG(id : s)::text AS o, JSON_ARRAYAGG(s ORDER BY id DESC)::text AS a,"
                    + " JSON_ARRAYAGG(s ORDER BY id NULL ON NULL)::text AS b FROM rt GROUP BY n",
            "SELECT id, s IS JSON AS j, doc::text IS JSON OBJECT AS o, doc::text IS NOT JSON ARRAY AS na FROM rt",
            "SELECT id, JSON(doc::text)::text AS j, JSON_SCALAR(n)::text AS sc, JSON_SERIALIZE(JSON(doc::text)) AS se,"
                    + " JSON_OBJECT()::text AS empty FROM rt WHERE doc IS NOT NULL",
            "SELECT id, JSON_VALUE(doc, '$.name') AS nm, JSON_QUERY(doc, '$.tags')::text AS tg, JSON_EXISTS(doc, '$.a.b') AS ab,"
                    + " JSON_VALUE(doc, '$.qty' RETURNING int DEFAULT 0 ON EMPTY) AS q FROM rt",
            // operator grouping where Calcite and PostgreSQL disagree
            "SELECT id, n * id ^ 2 AS p, -n ^ 2 AS q, 2 ^ n * 3 AS r FROM rt",
            "SELECT id, n || '-' || n + 1 AS r, s ~ 'a' || 'b' AS m FROM rt",
            "SELECT id, n / 2 * 2 AS half, n % 2 AS odd, 10 - n - 1 AS sub, (n || 'x') || id AS c FROM rt",
            // FROM-clause functions
            "SELECT x FROM generate_series(1, 3) AS g(x)",
    })
    void postgresReturnsTheSameRowsForTheQueryAndItsUnparse(String query) throws SqlParseException {
        assumeTrue(SqlJsonSyntax.minimumServerVersion(query) <= db.serverVersionNum(), "this server lacks the SQL/JSON syntax");
        String unparsed = QueryParser.toPostgres(parser.parse(query));

        assertThat(db.value("SELECT count(*) FROM (" + jdbc(query) + ") q")).as("corpus query returns rows")
                .isNotEqualTo(0L);
        assertThat(db.multisetDifference(jdbc(query), jdbc(unparsed))).as(unparsed).isEmpty();
    }

    @Test
    void randomOperatorMixesMeanTheSameAfterUnparse() throws Exception {
        Random random = new Random(20240601);
        int compared = 0;
        int jsonbExists = 0;
        List<String> differing = new ArrayList<>();
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            for (int k = 0; k < 2500; k++) {
                String query = "SELECT id, " + RandomExpression.any(random) + " AS v FROM rt";
                try (ResultSet rs = st.executeQuery(query)) {
                    rs.next();
                } catch (SQLException typeError) {
                    continue; // random mixes of types are often invalid; PostgreSQL must accept the original
                }
                String unparsed = QueryParser.toPostgres(parser.parse(query));
                try (ResultSet rs = st.executeQuery("SELECT count(*) FROM (((" + query + ") EXCEPT ALL (" + unparsed
                        + ")) UNION ALL ((" + unparsed + ") EXCEPT ALL (" + query + "))) d")) {
                    rs.next();
                    if (rs.getLong(1) != 0) {
                        differing.add(query + "  =>  " + unparsed);
                    }
                }
                compared++;
                jsonbExists += query.contains(" ? ") ? 1 : 0;
            }
        }
        assertThat(compared).as("random expressions PostgreSQL accepted").isGreaterThan(1500);
        assertThat(jsonbExists).as("of them with the jsonb ? operator").isGreaterThan(20);
        assertThat(differing).isEmpty();
    }

    /**
     * Expressions mixing the operators whose grouping differs between Calcite and PostgreSQL
     * ({@code ^ * / % + - || ~}), the JSON operators, casts and AT TIME ZONE, written without
     * parentheses so that PostgreSQL's precedence decides.
     */
    private static final class RandomExpression {
        private static final String[] NUMBERS = {"n", "id", "2", "3", "1.5", "-n", "abs(n)", "(n)", "n::numeric", "amount"};
        private static final String[] TEXTS = {"s", "'x'", "doc ->> 'name'", "id::text", "doc -> 'a' ->> 'b'", "$$q$$"};
        private static final String[] JSONS = {"doc", "doc -> 'a'", "'{\"z\":1}'::jsonb", "'{\"a\":{\"b\":2}}'::jsonb"};
        private static final String[] TIMES = {"ts AT TIME ZONE 'UTC'", "ts AT TIME ZONE 'UTC' AT TIME ZONE 'Asia/Tokyo'",
            "ts AT TIME ZONE 'UTC' - interval '1 hour'", "now() - ts AT TIME ZONE 'UTC' + interval '1 day'",
            "(ts AT TIME ZONE 'UTC')::date", "ts + interval '2 hours' * 2", "date '2024-01-01' + n",
            "timestamptz '2024-01-01 00:00+00' - ts", "extract(epoch from ts)::bigint % 60", "ts::date - interval '1 day'",
            "interval '1 day' * n + interval '5 minutes'"};

        static String any(Random r) {
            int depth = 1 + r.nextInt(4);
            return switch (r.nextInt(5)) {
                case 0 -> number(r, depth);
                case 1 -> text(r, depth);
                case 2 -> json(r, depth);
                case 3 -> bool(r, depth);
                default -> pick(r, TIMES);
            };
        }

        private static String number(Random r, int d) {
            if (d == 0) {
                return pick(r, NUMBERS);
            }
            return switch (r.nextInt(7)) {
                case 0 -> "-" + number(r, d - 1);
                case 1 -> "(" + number(r, d - 1) + ")";
                case 2 -> number(r, d - 1) + "::numeric";
                case 3 -> "(" + json(r, d - 1) + " ->> 'qty')::int";
                default -> number(r, d - 1) + " " + pick(r, "+", "-", "*", "/", "%", "^") + " " + number(r, d - 1);
            };
        }

        private static String text(Random r, int d) {
            if (d == 0) {
                return pick(r, TEXTS);
            }
            return switch (r.nextInt(6)) {
                case 0 -> number(r, d - 1) + " || " + text(r, d - 1);
                case 1 -> text(r, d - 1) + " || " + number(r, d - 1);
                case 2 -> text(r, d - 1) + " ~ 'a' || " + text(r, d - 1);
                case 3 -> json(r, d - 1) + " ->> " + pick(r, "'a'", "'name'", "0") + " || " + text(r, d - 1);
                case 4 -> "(" + text(r, d - 1) + ")";
                default -> text(r, d - 1) + " || " + text(r, d - 1);
            };
        }

        private static String json(Random r, int d) {
            if (d == 0) {
                return pick(r, JSONS);
            }
            return switch (r.nextInt(7)) {
                case 0 -> json(r, d - 1) + " -> " + pick(r, "'a'", "'name'", "0", "-1");
                case 1 -> json(r, d - 1) + " || " + json(r, d - 1);
                case 2 -> json(r, d - 1) + " - " + pick(r, "'a'", "'name'", "0");
                case 3 -> json(r, d - 1) + " #- '{a}'";
                case 4 -> "(" + json(r, d - 1) + ")";
                case 5 -> json(r, d - 1) + " #> '{a}'";
                default -> "jsonb_build_object('k', " + number(r, d - 1) + ") || " + json(r, d - 1);
            };
        }

        private static String bool(Random r, int d) {
            return switch (r.nextInt(9)) {
                case 0 -> number(r, d) + " = " + number(r, d);
                case 1 -> text(r, d) + " IS NULL";
                case 2 -> "NOT " + json(r, d) + " ? 'a'";
                case 3 -> json(r, d) + " @> " + json(r, d) + " OR " + json(r, d) + " <@ doc";
                case 4 -> text(r, d) + " LIKE 'a%' AND " + number(r, d) + " BETWEEN 1 AND " + number(r, d);
                case 5 -> number(r, d) + " IN (1, 2, " + number(r, d) + ")";
                case 6 -> "CASE WHEN " + json(r, d) + " ? 'name' THEN " + text(r, d) + " ELSE " + text(r, d) + " END = 'one'";
                case 7 -> text(r, d) + " ~ 'b' = " + number(r, d) + " > 1";
                default -> json(r, d) + " ->> 'name' IS DISTINCT FROM " + text(r, d);
            };
        }

        private static String pick(Random r, String... options) {
            return options[r.nextInt(options.length)];
        }
    }

    /** pgjdbc prepares statements and reads '?' as a parameter unless it is doubled. */
    private static String jdbc(String sql) {
        return sql.replace("?", "??");
    }
}
