package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.refresh.RefreshAnalysis;
import io.pgtrickle.core.refresh.RefreshResult;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A top-k stream table keeps exactly its rows and runs the bounded query again only when a
 * changed row sorts at or before the last row it keeps (or it keeps fewer than k): a change
 * further down reads only the change window.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class TopKIT {
    private static final String QUERY = "SELECT id, score FROM items ORDER BY score DESC, id LIMIT 3";
    private static final QualifiedName TOP = QualifiedName.parse("top3");

    private final TestDatabase db;

    TopKIT(TestDatabase db) {
        this.db = db;
    }

    @Test
    void aChangeBelowTheLastRowKeptReadsOnlyTheWindowAndOneAboveItRecomputes() {
        db.execute("DROP TABLE IF EXISTS items CASCADE", "CREATE TABLE items (id int PRIMARY KEY, score int, note text)",
                "INSERT INTO items SELECT g, g, 'n' || g FROM generate_series(1, 200) g");
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("top3", QUERY, "1h", "DIFFERENTIAL"));
            assertEqualsQuery();

            // Far below the boundary (score 198): an update, an insert and a delete.
            db.execute("UPDATE items SET score = 7 WHERE id = 5", "INSERT INTO items VALUES (500, 3, 'x')",
                    "DELETE FROM items WHERE id = 9");
            RefreshAnalysis below = analyzed(api);
            assertThat(below.action()).isEqualTo("DIFFERENTIAL");
            assertThat(scansOfItems(below)).as(below.render()).isNotEmpty()
                    .allSatisfy(line -> assertThat(line).contains("never executed"));
            RefreshResult quiet = api.refresh("top3");
            assertThat(quiet.rowsInserted() + quiet.rowsDeleted()).isZero();
            assertEqualsQuery();

            // The last row kept's score with a larger id sorts after it: still read from the window only.
            db.execute("INSERT INTO items VALUES (600, 198, 'after')");
            assertThat(scansOfItems(analyzed(api))).allSatisfy(line -> assertThat(line).contains("never executed"));
            api.refresh("top3");
            assertEqualsQuery();
            // Its score with a smaller id sorts before it: recomputed, the new row replaces it.
            db.execute("UPDATE items SET score = 198 WHERE id = 100");
            assertThat(scansOfItems(analyzed(api))).anySatisfy(line -> assertThat(line).doesNotContain("never executed"));
            api.refresh("top3");
            assertEqualsQuery();
            assertThat(db.value("SELECT count(*) FROM top3 WHERE id = 100")).isEqualTo(1L);

            // Above it: the row enters and the last one leaves.
            db.execute("UPDATE items SET score = 1000 WHERE id = 50");
            RefreshResult entered = api.refresh("top3");
            assertThat(entered.rowsInserted()).isEqualTo(1);
            assertThat(entered.rowsDeleted()).isEqualTo(1);
            assertEqualsQuery();

            // A kept row deleted, then fewer rows than k in all.
            db.execute("DELETE FROM items WHERE id = 200");
            api.refresh("top3");
            assertEqualsQuery();
            db.execute("DELETE FROM items WHERE id NOT IN (1, 2)");
            api.refresh("top3");
            assertEqualsQuery();
            assertThat(db.value("SELECT count(*) FROM top3")).isEqualTo(2L);
            db.execute("INSERT INTO items VALUES (3, -5, 'low')");
            api.refresh("top3");
            assertEqualsQuery();
            assertThat(db.value("SELECT count(*) FROM top3")).isEqualTo(3L);
        }
    }

    @Test
    void aTopKOfGroupsAndOneByAKeyItDoesNotSelectStayExact() {
        String groups = "SELECT grp, sum(score) AS total FROM items2 GROUP BY grp ORDER BY total DESC, grp LIMIT 3";
        String hidden = "SELECT id, note FROM items2 ORDER BY score DESC, id LIMIT 3 OFFSET 1";
        db.execute("DROP TABLE IF EXISTS items2 CASCADE", "CREATE TABLE items2 (id int PRIMARY KEY, score int, note text, grp int)",
                "CREATE INDEX ON items2 (score)",
                "INSERT INTO items2 SELECT g, g, 'n' || g, g % 10 FROM generate_series(1, 200) g");
        try (PgTrickleEngine engine = EngineFixture.open(db)) {
            StreamTables api = engine.streamTables();
            EngineFixture.dropAllStreamTables(api);
            api.create(StreamTableSpec.parse("top_groups", groups, "1h", "DIFFERENTIAL"));
            api.create(StreamTableSpec.parse("top_hidden", hidden, "1h", "DIFFERENTIAL"));
            assertThat(api.explain(QualifiedName.parse("top_hidden")).strategy()).contains("row 4 of the query now");

            // far below both boundaries: nothing to rewrite
            db.execute("UPDATE items2 SET score = 7 WHERE id = 5");
            RefreshResult quiet = api.refresh("top_hidden");
            assertThat(quiet.action()).isEqualTo("DIFFERENTIAL");
            assertThat(quiet.rowsInserted() + quiet.rowsDeleted()).isZero();
            api.refresh("top_groups");
            assertEquals("top_groups", "grp, total", groups);
            assertEquals("top_hidden", "id, note", hidden);

            // a row overtakes the boundary, a kept row falls below it, a group overtakes another
            for (String change : List.of("UPDATE items2 SET score = 500 WHERE id = 50",
                    "UPDATE items2 SET score = 0 WHERE id = 199", "UPDATE items2 SET score = score + 1000 WHERE id = 3",
                    "DELETE FROM items2 WHERE id IN (200, 198)", "UPDATE items2 SET note = 'renamed' WHERE id = 197",
                    "DELETE FROM items2 WHERE id > 4")) {
                db.execute(change);
                assertThat(api.refresh("top_groups").action()).isEqualTo("DIFFERENTIAL");
                assertThat(api.refresh("top_hidden").action()).isEqualTo("DIFFERENTIAL");
                assertEquals("top_groups", "grp, total", groups);
                assertEquals("top_hidden", "id, note", hidden);
            }
            assertThat(db.value("SELECT count(*) FROM top_hidden")).isEqualTo(3L);
        }
    }

    private void assertEquals(String table, String columns, String query) {
        assertThat(db.multisetDifference("SELECT " + columns + " FROM " + table, query)).as(table).isEmpty();
    }

    /** Analyzes the next refresh, once capture has buffered the pending changes. */
    private static RefreshAnalysis analyzed(StreamTables api) {
        api.explainAnalyze(TOP);
        return api.explainAnalyze(TOP);
    }

    /** The plan lines that scan {@code items}, over every statement of the analysed refresh. */
    private static List<String> scansOfItems(RefreshAnalysis a) {
        return a.statements().stream().filter(s -> s.plan() != null).flatMap(s -> s.plan().lines()).filter(l -> l.matches(".* on items\\b.*")).toList();
    }

    private void assertEqualsQuery() {
        assertThat(db.multisetDifference("SELECT id, score FROM top3", QUERY)).isEmpty();
    }
}
