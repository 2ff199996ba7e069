package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.lifecycle.RefreshMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Table inheritance as a source: a query over a parent reads its children, so rows written to a
 * child (directly, or through a statement on the parent) reach the stream tables reading the
 * parent, children with columns of their own included; a stream table reading a child directly
 * sees statements on the parent that touch the child's rows; {@code ONLY parent} sees no child
 * rows (FULL: the compiler cannot parse ONLY); children added or removed later (CREATE TABLE …
 * INHERITS, INHERIT, NO INHERIT) are followed.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class InheritanceSourceIT {
    private static final Map<String, String> QUERIES = new LinkedHashMap<>();
    private static final Map<String, String> MODES = new LinkedHashMap<>();
    private static final String ONLY_QUERY = "SELECT id, name FROM ONLY animals";

    static {
        define("all_animals", "SELECT id, name, legs FROM animals", "DIFFERENTIAL");
        define("animals_by_legs", "SELECT legs, count(*) AS n, sum(id) AS ids, max(name) AS top FROM animals GROUP BY legs", "DIFFERENTIAL");
        define("animal_owners", "SELECT a.id, a.name, o.owner FROM owners o JOIN animals a ON o.animal_id = a.id",
                "DIFFERENTIAL");
        define("owners_of_legless", "SELECT o.animal_id, o.owner FROM owners o"
                + " WHERE EXISTS (SELECT 1 FROM animals a WHERE a.id = o.animal_id AND a.legs = 0)", "DIFFERENTIAL");
        define("dogs_direct", "SELECT id, name, legs, breed FROM dogs", "DIFFERENTIAL");
        define("animals_full", "SELECT name, legs FROM animals", "FULL");
        define("only_animals", ONLY_QUERY, "AUTO");
    }

    private static void define(String name, String query, String mode) {
        QUERIES.put(name, query);
        MODES.put(name, mode);
    }

    private final TestDatabase db;

    InheritanceSourceIT(TestDatabase db) {
        this.db = db;
    }

    @ParameterizedTest
    @EnumSource(value = CdcMode.class, names = {"WAL", "TRIGGER"})
    void everyStreamTableOverAnInheritanceTreeEqualsItsQueryThroughDmlAndChildrenChanging(CdcMode mode) {
        try (PgTrickleEngine engine = PgTrickleEngine.open(EngineFixture.config(db).withCdcMode(mode))) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            db.execute("DROP TABLE IF EXISTS animals, dogs, birds, cats, pets, owners CASCADE",
                    // The parent's key does not cover its children: id 1 exists in the parent and in dogs.
                    "CREATE TABLE animals (id int PRIMARY KEY, name text NOT NULL, legs int)",
                    "CREATE TABLE dogs (breed text) INHERITS (animals)",
                    "CREATE TABLE birds () INHERITS (animals)",
                    "CREATE TABLE owners (animal_id int, owner text)",
                    "INSERT INTO animals VALUES (1, 'snake', 0), (2, 'worm', 0)",
                    "INSERT INTO dogs VALUES (1, 'rex', 4, 'collie'), (3, 'fido', 4, 'pug')",
                    "INSERT INTO birds VALUES (4, 'tweety', 2)",
                    "INSERT INTO owners VALUES (1, 'ann'), (3, 'bob'), (4, 'cy'), (5, 'dee')");
            for (var st : QUERIES.entrySet()) {
                api.create(StreamTableSpec.parse(st.getKey(), st.getValue(), "1h", MODES.get(st.getKey())));
            }
            assertThatThrownBy(() -> api.create(StreamTableSpec.parse("only_diff", ONLY_QUERY, "1h", "DIFFERENTIAL")))
                    .isInstanceOf(PgTrickleException.class)
                    .hasMessageContaining("ONLY").hasMessageContaining("use refresh mode AUTO or FULL");
            assertThat(api.require(io.pgtrickle.core.sql.QualifiedName.parse("only_animals")).effectiveMode())
                    .isEqualTo(RefreshMode.FULL);
            assertThat(api.require(io.pgtrickle.core.sql.QualifiedName.parse("only_animals")).modeReason())
                    .contains("ONLY");
            if (mode == CdcMode.WAL) {
                assertThat(db.value("SELECT string_agg(relname || ':' || relreplident::text, ',' ORDER BY relname)"
                        + " FROM pg_class WHERE relname IN ('animals', 'dogs', 'birds')"))
                        .isEqualTo("animals:f,birds:f,dogs:f");
            }

            // Statements on the parent reach the children's rows.
            db.execute("INSERT INTO animals VALUES (5, 'slug', 0)",
                    "UPDATE animals SET name = upper(name) WHERE legs = 4",
                    "UPDATE animals SET legs = 3 WHERE id = 4",
                    "DELETE FROM animals WHERE name = 'FIDO'");
            refreshAndCheck(api, "DML on the parent");
            assertThat(db.value("SELECT string_agg(id || ':' || name || ':' || breed, ',' ORDER BY id) FROM dogs_direct"))
                    .isEqualTo("1:REX:collie");
            assertThat(db.value("SELECT string_agg(name, ',' ORDER BY name) FROM only_animals")).isEqualTo("slug,snake,worm");

            // Statements on the children; one changes only a child's own column.
            db.execute("INSERT INTO dogs VALUES (2, 'lassie', 4, 'collie'), (6, 'odie', 4, NULL)",
                    "UPDATE dogs SET breed = 'beagle' WHERE id = 6",
                    "UPDATE birds SET legs = 2",
                    "DELETE FROM ONLY animals WHERE id = 2");
            refreshAndCheck(api, "DML on the children");
            assertThat(db.value("SELECT string_agg(id || ':' || name, ',' ORDER BY id, name) FROM all_animals"))
                    .isEqualTo("1:REX,1:snake,2:lassie,4:tweety,5:slug,6:odie");

            // A child's row and the rows it joins change together, while the parent's row of the same id does not.
            db.execute("UPDATE dogs SET name = 'rex', legs = 0 WHERE id = 1", "INSERT INTO owners VALUES (1, 'eve')");
            refreshAndCheck(api, "a child row and its join partner changing together");
            assertThat(db.value("SELECT string_agg(name || ':' || owner, ',' ORDER BY name, owner) FROM animal_owners"
                    + " WHERE id = 1")).isEqualTo("rex:ann,rex:eve,snake:ann,snake:eve");

            // A child created later: its very first UPDATE and DELETE must work.
            db.execute("CREATE TABLE cats (lives int DEFAULT 9) INHERITS (animals)",
                    "INSERT INTO cats (id, name, legs) VALUES (7, 'tom', 4), (8, 'felix', 4)",
                    "UPDATE cats SET lives = 8 WHERE id = 7",
                    "UPDATE cats SET name = 'garfield' WHERE id = 8",
                    "DELETE FROM cats WHERE id = 7");
            refreshAndCheck(api, "child created later");
            assertThat(db.value("SELECT n FROM animals_by_legs WHERE legs = 4")).isEqualTo(3L);

            // An existing table with rows becomes a child; another child leaves.
            db.execute("CREATE TABLE pets (id int NOT NULL, name text NOT NULL, legs int)",
                    "INSERT INTO pets VALUES (9, 'nemo', 0), (1, 'dory', 0)",
                    "ALTER TABLE pets INHERIT animals",
                    "ALTER TABLE birds NO INHERIT animals");
            refreshAndCheck(api, "INHERIT and NO INHERIT");
            db.execute("UPDATE pets SET legs = 1 WHERE id = 9", "UPDATE birds SET name = 'gone'",
                    "UPDATE animals SET legs = legs + 10 WHERE id = 1");
            refreshAndCheck(api, "DML after INHERIT and NO INHERIT");
            assertThat(db.value("SELECT count(*) FROM all_animals WHERE name IN ('tweety', 'gone')")).isEqualTo(0L);
            assertThat(db.value("SELECT string_agg(id || ':' || legs, ',' ORDER BY id) FROM dogs_direct"))
                    .isEqualTo("1:10,2:4,6:4");

            // TRUNCATE of a child.
            db.execute("TRUNCATE dogs", "INSERT INTO dogs VALUES (10, 'pluto', 4, 'mutt')");
            refreshAndCheck(api, "TRUNCATE of a child");
            assertThat(db.value("SELECT string_agg(name, ',' ORDER BY name) FROM dogs_direct")).isEqualTo("pluto");
        }
    }

    private void refreshAndCheck(StreamTables api, String step) {
        for (var st : QUERIES.entrySet()) {
            api.refresh(st.getKey());
            String columns = String.join(", ", db.rows("SELECT attname FROM pg_attribute WHERE attrelid = ?::regclass"
                    + " AND attnum > 0 AND NOT attisdropped AND attname NOT LIKE '\\_\\_pgt\\_%' ORDER BY attnum",
                    st.getKey()).stream().map(r -> (String) r.get(0)).toList());
            assertThat(db.multisetDifference(st.getValue(), "SELECT " + columns + " FROM " + st.getKey()))
                    .as("%s after %s", st.getKey(), step).isEmpty();
        }
    }
}
