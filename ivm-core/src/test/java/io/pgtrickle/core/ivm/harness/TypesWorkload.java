package io.pgtrickle.core.ivm.harness;

import io.pgtrickle.core.query.SqlJsonSyntax;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * User-defined types and the SQL users write over them: a table with a domain (a CHECK over
 * int), an enum (declared out of alphabetical order), a composite, citext and hstore columns, and
 * an owners table joined by USING and NATURAL, and a jsonb document that may be SQL NULL or the
 * JSON value null, at the top or nested. Shapes group by the domain, take the enum's min and max,
 * compare composites, and use ORDER BY inside aggregates, the SQL/JSON constructors, outputs
 * without a name and JSON operators that tell the two nulls apart. A text array and a jsonb array
 * column feed the set-returning functions in FROM (unnest, jsonb_array_elements, generate_series
 * over a column, jsonb_to_recordset with a column definition list, implicit and explicit LATERAL,
 * WITH ORDINALITY, grouped over).
 */
public final class TypesWorkload implements Workload {
    private final int serverVersionNum;

    /** Every shape, whatever the server (for checks over the shapes' names). */
    public TypesWorkload() {
        this(Integer.MAX_VALUE);
    }

    /** The shapes a server of {@code serverVersionNum} can run (SQL/JSON needs 16 or 17). */
    public TypesWorkload(int serverVersionNum) {
        this.serverVersionNum = serverVersionNum;
    }

    private static final int KEYS = 40;
    private static final int OWNERS = 6;
    private static final String[] MOODS = {"'sad'", "'ok'", "'happy'", "NULL"};
    private static final String[] LABELS = {"'red'", "'Red'", "'RED'", "'blue'", "'Blue'", "NULL"};
    private static final String[] TAGS = {"'a'", "'b,c'", "'q\"uote'", "NULL"};
    private static final String[] ATTRS = {"'color=>red'", "'size=>1, color=>blue'", "'size=>NULL'", "''", "NULL",
            "'\"odd key\"=>\"v,w\"'"};
    private static final String[] REGIONS = {"'north'", "'south'", "NULL"};
    private static final String[] TAG_ARRAYS = {"ARRAY['a', 'b']", "ARRAY['a', 'a', NULL]", "'{}'::text[]", "NULL",
            "ARRAY['b']", "ARRAY['c', 'b', 'a', 'c']"};
    /** Only arrays or SQL NULL: jsonb_array_elements fails on any other JSON value. */
    private static final String[] ITEM_ARRAYS = {"'[{\"k\": 1}, {\"k\": \"x\"}]'", "'[]'", "NULL", "'[1, null, [2], 1]'",
            "'[{\"k\": null}]'", "'[\"a\"]'"};
    private static final String[] DOCS = {"'null'", "NULL", "'{\"a\": null}'", "'[null]'", "'{\"a\": 1}'", "'{}'"};

    private static final List<Shape> SHAPES = List.of(
            Shape.of("ty_copy", "SELECT * FROM typed"),
            Shape.of("ty_by_mood", "SELECT mood, count(*) AS n, sum(grade) AS total, min(grade) AS low, count(doc) AS docs,"
                    + " count(*) FILTER (WHERE jsonb_typeof(doc -> 'a') = 'null') AS null_a FROM typed GROUP BY mood"),
            Shape.of("ty_mood_range", "SELECT owner_id, min(mood) AS lo, max(mood) AS hi, count(mood) AS n FROM typed"
                    + " GROUP BY owner_id"),
            Shape.of("ty_by_domain", "SELECT grade, count(*) AS n, max(label) AS top_label FROM typed GROUP BY grade"),
            Shape.of("ty_by_composite", "SELECT spot, count(*) AS n FROM typed WHERE spot IS NOT NULL GROUP BY spot"),
            Shape.of("ty_composite_fields", "SELECT id, (spot).x AS x, (spot).tag AS tag FROM typed"
                    + " WHERE (spot).x > 1 OR spot = '(1,a)'::ty_pair"),
            Shape.of("ty_citext_hstore", "SELECT id, label, attrs -> 'color' AS color, akeys(attrs) AS keys FROM typed"
                    + " WHERE label = 'RED' OR exist(attrs, 'size')"),
            Shape.of("ty_using_join", "SELECT owner_id, t.id, o.region, t.mood FROM typed t JOIN owners o USING (owner_id)"),
            Shape.of("ty_full_using_group", "SELECT owner_id, count(t.id) AS n, max(o.rank) AS top FROM typed t"
                    + " FULL JOIN owners o USING (owner_id) GROUP BY owner_id"),
            Shape.of("ty_natural_left", "SELECT * FROM typed NATURAL LEFT JOIN owners"),
            Shape.of("ty_ordered_aggs", "SELECT owner_id, string_agg(label::text, ',' ORDER BY label, id) AS labels,"
                    + " jsonb_agg(grade ORDER BY id) AS grades, array_agg(mood ORDER BY mood NULLS FIRST, id) AS moods"
                    + " FROM typed GROUP BY owner_id"),
            Shape.of("ty_json_constructors", "SELECT id, JSON_OBJECT('g' : grade, 'm' VALUE mood)::jsonb AS obj,"
                    + " JSON_ARRAY(grade, label)::jsonb AS arr, label::text IS JSON AS is_json FROM typed"),
            Shape.of("ty_json_aggregates", "SELECT owner_id, JSON_OBJECTAGG(id : grade)::jsonb AS by_id,"
                    + " JSON_ARRAYAGG(mood ORDER BY id)::jsonb AS moods FROM typed GROUP BY owner_id"),
            Shape.of("ty_unnamed_outputs", "SELECT id, grade + 1, upper(label::text) FROM typed"),
            Shape.of("ty_distinct_on_fixed", "SELECT DISTINCT ON (owner_id) owner_id, id, mood FROM typed"
                    + " ORDER BY owner_id, mood DESC, id"),
            // set-returning functions in FROM: applied to the referenced row's version in each delta term
            Shape.of("ty_unnest_tags", "SELECT t.id, x.tag FROM typed t, unnest(t.tags) AS x(tag)"),
            Shape.of("ty_unnest_ordinality", "SELECT t.id, x.tag, x.n FROM typed t"
                    + " CROSS JOIN LATERAL unnest(t.tags) WITH ORDINALITY AS x(tag, n) WHERE x.tag IS DISTINCT FROM 'c'"),
            Shape.of("ty_jsonb_elements", "SELECT t.id, e.item, e.item ->> 'k' AS k FROM typed t"
                    + " CROSS JOIN LATERAL jsonb_array_elements(t.items) AS e(item)"),
            Shape.of("ty_series_join", "SELECT t.id, g.i, o.region FROM typed t JOIN LATERAL generate_series(1, t.grade) AS g(i)"
                    + " ON true JOIN owners o ON o.owner_id = t.owner_id AND o.rank <= g.i"),
            Shape.of("ty_unnest_group", "SELECT t.owner_id, count(*) AS n, count(x.x) AS tagged, count(DISTINCT x.x) AS kinds"
                    + " FROM typed t, unnest(t.tags) x GROUP BY t.owner_id"),
            Shape.of("ty_left_lateral", "SELECT t.id, x.tag FROM typed t LEFT JOIN LATERAL unnest(t.tags) AS x(tag)"
                    + " ON x.tag <> 'b'"),
            // jsonb_to_recordset fails on an element that is no object: the path keeps the objects only.
            Shape.of("ty_recordset", "SELECT t.id, t.owner_id, r.k, r.missing FROM typed t CROSS JOIN LATERAL"
                    + " jsonb_to_recordset(jsonb_path_query_array(t.items, '$[*] ? (@.type() == \"object\")'))"
                    + " AS r(k text, missing int)"),
            Shape.of("ty_recordset_group", "SELECT r.k, count(*) AS n, count(DISTINCT t.owner_id) AS owners FROM typed t,"
                    + " jsonb_to_recordset(jsonb_path_query_array(t.items, '$[*] ? (@.type() == \"object\")')) AS r(k text)"
                    + " GROUP BY r.k"),
            Shape.of("ty_constant_series", "SELECT g.i, count(o.owner_id) AS n FROM generate_series(0, 3) AS g(i)"
                    + " JOIN owners o ON o.rank = g.i GROUP BY g.i"));

    @Override
    public String name() {
        return "types";
    }

    @Override
    public List<String> schema() {
        return List.of("CREATE EXTENSION IF NOT EXISTS citext", "CREATE EXTENSION IF NOT EXISTS hstore",
                "CREATE TYPE ty_mood AS ENUM ('sad', 'ok', 'happy')",
                "CREATE TYPE ty_pair AS (x int, tag text)",
                "CREATE DOMAIN ty_grade AS int CHECK (VALUE BETWEEN 1 AND 5)",
                "CREATE TABLE typed (id int PRIMARY KEY, owner_id int, grade ty_grade, mood ty_mood, spot ty_pair,"
                        + " label citext, attrs hstore, doc jsonb, tags text[], items jsonb)",
                "CREATE TABLE owners (owner_id int PRIMARY KEY, region text, rank int)");
    }

    @Override
    public List<String> tables() {
        return List.of("typed", "owners");
    }

    @Override
    public List<String> seed(Random random) {
        List<String> sql = new ArrayList<>();
        for (int o = 1; o <= 4; o++) {
            sql.add(upsertOwner(random, o));
        }
        for (int id = 1; id <= 20; id++) {
            sql.add(insertTyped(random, id));
        }
        return sql;
    }

    @Override
    public Batch randomBatch(Random random) {
        return Batch.random(random, 8, TypesWorkload::randomChange);
    }

    @Override
    public List<Shape> shapes() {
        return SHAPES.stream().filter(s -> SqlJsonSyntax.minimumServerVersion(s.sql()) <= serverVersionNum).toList();
    }

    private static String randomChange(Random random) {
        int id = 1 + random.nextInt(KEYS);
        return switch (random.nextInt(14)) {
            case 0, 1, 2 -> insertTyped(random, id);
            case 3 -> "UPDATE typed SET grade = " + grade(random) + ", mood = " + pick(random, MOODS) + " WHERE id = " + id;
            case 4 -> "UPDATE typed SET spot = " + spot(random) + ", label = " + pick(random, LABELS) + " WHERE id = " + id;
            case 5 -> random.nextBoolean() ? "UPDATE typed SET attrs = attrs || " + pick(random, ATTRS).replace("NULL", "''")
                    + " WHERE id = " + id : "UPDATE typed SET doc = " + pick(random, DOCS) + " WHERE id = " + id;
            case 6 -> "UPDATE typed SET owner_id = " + owner(random) + " WHERE id % 5 = " + random.nextInt(5);
            case 7 -> "DELETE FROM typed WHERE id = " + id;
            case 8 -> "DELETE FROM typed WHERE mood = (SELECT max(mood) FROM typed)";
            case 9 -> upsertOwner(random, 1 + random.nextInt(OWNERS));
            case 10 -> "DELETE FROM owners WHERE owner_id = " + (1 + random.nextInt(OWNERS));
            case 11 -> "UPDATE typed SET tags = " + pick(random, TAG_ARRAYS) + " WHERE id = " + id;
            case 12 -> "UPDATE typed SET items = " + pick(random, ITEM_ARRAYS) + ", tags = tags || 'a'::text WHERE id % 4 = "
                    + random.nextInt(4);
            default -> "UPDATE typed SET grade = NULL, mood = NULL, spot = NULL, attrs = NULL, doc = NULL, tags = NULL,"
                    + " items = NULL WHERE id = " + id;
        };
    }

    private static String insertTyped(Random random, int id) {
        return "INSERT INTO typed VALUES (" + id + ", " + owner(random) + ", " + grade(random) + ", " + pick(random, MOODS)
                + ", " + spot(random) + ", " + pick(random, LABELS) + ", " + pick(random, ATTRS) + ", " + pick(random, DOCS)
                + ", " + pick(random, TAG_ARRAYS) + ", " + pick(random, ITEM_ARRAYS) + ") ON CONFLICT (id) DO NOTHING";
    }

    private static String upsertOwner(Random random, int id) {
        return "INSERT INTO owners VALUES (" + id + ", " + pick(random, REGIONS) + ", " + random.nextInt(4) + ")"
                + " ON CONFLICT (owner_id) DO UPDATE SET region = excluded.region, rank = excluded.rank";
    }

    /** Some owners do not exist: the outer joins get unmatched rows on both sides. */
    private static String owner(Random random) {
        return random.nextInt(8) == 0 ? "NULL" : String.valueOf(1 + random.nextInt(OWNERS + 2));
    }

    private static String grade(Random random) {
        return random.nextInt(6) == 0 ? "NULL" : String.valueOf(1 + random.nextInt(5));
    }

    /** A composite, sometimes with NULL fields (ROW(NULL, NULL) is neither NULL nor NOT NULL). */
    private static String spot(Random random) {
        return switch (random.nextInt(5)) {
            case 0 -> "NULL";
            case 1 -> "ROW(NULL, NULL)::ty_pair";
            default -> "ROW(" + (random.nextInt(4) == 0 ? "NULL" : String.valueOf(random.nextInt(4))) + ", "
                    + pick(random, TAGS) + ")::ty_pair";
        };
    }

    private static String pick(Random random, String[] values) {
        return values[random.nextInt(values.length)];
    }
}
