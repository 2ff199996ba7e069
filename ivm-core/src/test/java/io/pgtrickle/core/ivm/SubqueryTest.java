package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.sql.QualifiedName;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which filter subqueries make a window's change reach every outer row (the window is then recomputed). */
class SubqueryTest {
    private static final Map<List<String>, BaseTable> TABLES = Map.of(
            List.of("a"), new BaseTable(1, new QualifiedName("public", "a"), List.of("id", "k", "s"), List.of("id")),
            List.of("b"), new BaseTable(2, new QualifiedName("public", "b"), List.of("bid", "bk", "w"), List.of("bid")));

    private static boolean reachesEveryRow(String where, Long... changed) {
        DeltaContext ctx = DeltaContext.allChanged(Set.of(changed));
        return Subquery.in(SqlTrees.parseExpression(where), TABLES).stream().anyMatch(s -> s.reachesEveryRow(ctx));
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "s > (SELECT avg(w) FROM b WHERE w > 0)",
        "s = (SELECT max(t.m) FROM (SELECT bk, sum(w) AS m FROM b GROUP BY bk) t)",
        "EXISTS (SELECT 1 FROM b WHERE w > 3)",
        "k = 1 AND NOT EXISTS (SELECT 1 FROM b WHERE bk = k) AND s > (SELECT avg(w) FROM b)",
    })
    void uncorrelatedOrOpaqueSubqueriesReachEveryRow(String where) {
        assertThat(reachesEveryRow(where, 2L)).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "NOT EXISTS (SELECT 1 FROM b WHERE bk = k)",
        "s > (SELECT avg(w) FROM b WHERE b.bk = a.k)",
        "k IN (SELECT bk FROM b WHERE w > 0)",
        "k NOT IN (SELECT bk FROM b)",
    })
    void correlatedSubqueriesAndInsAreNarrowed(String where) {
        assertThat(reachesEveryRow(where, 2L)).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"s > (SELECT avg(w) FROM b)", "EXISTS (SELECT 1 FROM b)"})
    void aSubqueryWhoseTablesDidNotChangeReachesNoRow(String where) {
        assertThat(reachesEveryRow(where, 1L)).isFalse();
    }
}
