package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.math.BigDecimal;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Columns of user-defined types — domains (with CHECKs), enums, composites, extension base types
 * with their own I/O (citext, hstore, ltree, cube, isbn13), arrays of these, NULL elements, a domain
 * over bytea, timestamps and dates at ±infinity — are
 * captured in each type's text form and read back exactly; queries over them are maintained
 * exactly in DIFFERENTIAL (enum order, composite equality, grouping by a domain).
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class UserDefinedTypeCaptureIT {
    private static final String COLUMNS = "id, p, l, m, e, c::text AS c, ci::text AS ci, h::text AS h, lt::text AS lt,"
            + " cu::text AS cu, i::text AS i, ea::text AS ea, ca::text AS ca, pa::text AS pa, bt::text AS bt, ba, ha::text AS ha, bd, ts_local, tz, dd";
    /** Each stream table's query; the copy reads all columns, the others compute on the types. */
    private static final Map<String, String> QUERIES = Map.of(
            "udt_copy", "SELECT * FROM udt",
            "udt_by_mood", "SELECT e, count(*) AS n, sum(m) AS total, min(p) AS low FROM udt GROUP BY e",
            "udt_mood_range", "SELECT p > 2 AS big, min(e) AS lowest, max(e) AS highest FROM udt GROUP BY p > 2",
            "udt_by_domain", "SELECT p, count(*) AS n FROM udt GROUP BY p",
            "udt_pairs", "SELECT c, count(*) AS n FROM udt WHERE c IS NOT NULL GROUP BY c",
            "udt_top_mood", "SELECT DISTINCT ON (p > 2) p > 2 AS big, id, e FROM udt ORDER BY p > 2, e DESC, id",
            "udt_matches", "SELECT id, (c).a AS a, h -> 'b' AS hb, nlevel(lt) AS depth FROM udt"
                    + " WHERE c = '(2,\"b\"\"q\")'::pair OR ci = 'ABC' OR h ? 'a' OR lt <@ 'a.b' OR 'ok' = ANY (ea)");
    private final TestDatabase db;

    UserDefinedTypeCaptureIT(TestDatabase db) {
        this.db = db;
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void userDefinedTypesAreCapturedExactlyAndMaintainedInDifferential(CdcMode mode) {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            db.execute("DROP TABLE IF EXISTS udt CASCADE", "DROP TYPE IF EXISTS mood CASCADE", "DROP TYPE IF EXISTS pair CASCADE",
                    "DROP DOMAIN IF EXISTS posint CASCADE", "DROP DOMAIN IF EXISTS label CASCADE", "DROP DOMAIN IF EXISTS amount CASCADE", "DROP DOMAIN IF EXISTS blob CASCADE",
                    "CREATE EXTENSION IF NOT EXISTS citext", "CREATE EXTENSION IF NOT EXISTS hstore",
                    "CREATE EXTENSION IF NOT EXISTS ltree", "CREATE EXTENSION IF NOT EXISTS cube", "CREATE EXTENSION IF NOT EXISTS isn",
                    // Declared out of alphabetical order, so that enum order differs from text order.
                    "CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')",
                    "CREATE TYPE pair AS (a int, b text)",
                    "CREATE DOMAIN posint AS int CHECK (VALUE > 0)",
                    "CREATE DOMAIN label AS text CHECK (VALUE <> '')",
                    "CREATE DOMAIN amount AS numeric(10,2) CHECK (VALUE >= 0)",
                    "CREATE DOMAIN blob AS bytea",
                    "CREATE TABLE udt (id int PRIMARY KEY, p posint, l label, m amount, e mood, c pair, ci citext, h hstore,"
                            + " lt ltree, cu cube, i isbn13, ea mood[], ca pair[], pa posint[], bt bit(13), ba bytea, ha hstore[], bd blob, ts_local timestamp, tz timestamptz, dd date)",
                    "INSERT INTO udt VALUES (1, 1, 'x', 1.5, 'ok', ROW(1,'a'), 'AbC', 'a=>1', 'a.b', '(1,2)', '978-0-393-04002-9',"
                            + " '{sad,happy}', ARRAY[ROW(1,'x')::pair], '{1,2}', B'0000000000001', '\\x0102', ARRAY['a=>1'::hstore], '\\x00ff5c', '2024-01-02 03:04:05.678', '2024-01-02 03:04:05+02', 'infinity'),"
                            + " (3, 3, 'z', 0, 'sad', NULL, 'q', NULL, 'c', '(0)', NULL, '{}', NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, '-infinity')");
            QUERIES.forEach((name, query) -> api.create(StreamTableSpec.parse(name, query, "1h", "DIFFERENTIAL")));

            db.execute("INSERT INTO udt VALUES (2, 2, 'y', 2.25, 'happy', ROW(2,'b\"q'), 'xYz', 'b=>2, \"c d\"=>NULL', 'a.b.c',"
                            + " '(1,2),(3,4)', '978-0-393-04002-9', '{ok,NULL}', ARRAY[ROW(2,'y,z')::pair, NULL, ROW(NULL,NULL)::pair],"
                            + " '{3,NULL}', B'1010101010101', '\\xff00', ARRAY['b=>\"x y\"'::hstore, NULL], '\\x31', 'infinity', '-infinity', '2024-02-29'),"
                            + " (4, 2, 'w', 7, 'happy', ROW(1,'a'), 'abc', '', 'a', '(5)', NULL, '{happy}', '{}', '{}', B'0000000000000', '\\x', '{}', '\\x', '1999-12-31 23:59:59', '1999-12-31 23:59:59.999999+00', '1999-12-31')",
                    "UPDATE udt SET p = 5, e = 'sad', c = ROW(9, NULL), ea = ea || 'ok'::mood, h = h || 'k=>\"v,w\"' WHERE id = 1",
                    "UPDATE udt SET dd = 'infinity', ts_local = '-infinity', tz = 'infinity', bd = '\\x5c00' WHERE id = 3");
            refreshAllAndCheck(api);
            assertThat(db.rows("SELECT e::text AS label, n, total FROM udt_by_mood ORDER BY e"))
                    .containsExactly(List.of("sad", 2L, new BigDecimal("1.50")), List.of("happy", 2L, new BigDecimal("9.25")));
            assertThat(db.rows("SELECT ca::text, pa::text, h::text FROM udt_copy WHERE id = 2"))
                    .containsExactly(List.of("{\"(2,\\\"y,z\\\")\",NULL,\"(,)\"}", "{3,NULL}", "\"b\"=>\"2\", \"c d\"=>NULL"));

            db.execute("UPDATE udt SET e = 'happy', p = 3, c = ROW(2, 'b\"q') WHERE id = 3",
                    "UPDATE udt SET e = 'ok', ca = ca || ROW(7, 'n')::pair, ha = NULL WHERE id = 2",
                    "DELETE FROM udt WHERE id = 4");
            refreshAllAndCheck(api);
            assertThat(db.rows("SELECT big, lowest::text, highest::text FROM udt_mood_range ORDER BY big"))
                    .containsExactly(List.of(false, "ok", "ok"), List.of(true, "sad", "happy"));
            // ROW(9, NULL) IS NOT NULL is false: a composite is NOT NULL only when every field is.
            assertThat(db.rows("SELECT c::text, n FROM udt_pairs ORDER BY c")).containsExactly(
                    List.of("(2,\"b\"\"q\")", 2L));
            // Enum order, not text order: 'happy' sorts after 'sad'.
            assertThat(db.rows("SELECT big, id, e::text AS label FROM udt_top_mood ORDER BY big")).containsExactly(
                    List.of(false, 2, "ok"), List.of(true, 3, "happy"));
            assertThat(db.rows("SELECT p, n FROM udt_by_domain ORDER BY p")).containsExactly(
                    List.of(2, 1L), List.of(3, 1L), List.of(5, 1L));
        }
    }

    /** The stream table's own columns, as text where the type has no equality for EXCEPT ALL. */
    private String userColumns(String table) {
        return String.join(", ", db.rows("SELECT CASE WHEN t.typname = 'cube' OR t.typcategory = 'C'"
                + " THEN quote_ident(attname) || '::text' ELSE quote_ident(attname) END FROM pg_attribute a"
                + " JOIN pg_type t ON t.oid = a.atttypid WHERE attrelid = ?::regclass AND attnum > 0"
                + " AND NOT attisdropped AND attname NOT LIKE '\\_\\_pgt\\_%' ORDER BY attnum", table)
                .stream().map(r -> (String) r.get(0)).toList());
    }

    private void refreshAllAndCheck(StreamTables api) {
        QUERIES.keySet().forEach(api::refresh);
        assertThat(db.multisetDifference("SELECT " + COLUMNS + " FROM udt", "SELECT " + COLUMNS + " FROM udt_copy")).isEmpty();
        QUERIES.forEach((name, query) -> {
            if (!name.equals("udt_copy")) {
                // The JDBC driver of the test reads ? as a parameter; ?? is hstore's key operator there.
                String sql = query.replace(" ? ", " ?? ");
                String columns = userColumns(name);
                assertThat(db.multisetDifference("SELECT " + columns + " FROM (" + sql + ") q",
                        "SELECT " + columns + " FROM " + name)).as(name).isEmpty();
            }
        });
    }
}
