package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.query.QueryParser;
import io.pgtrickle.core.sql.QualifiedName;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Which queries are a function of their tables' data, decided conservatively. */
class DeterminismTest {
    private static final Map<List<String>, BaseTable> TABLES = Map.of(
            List.of("a"), new BaseTable(1, new QualifiedName("public", "a"), List.of("id", "k", "s"), List.of("id")),
            List.of("b"), new BaseTable(2, new QualifiedName("public", "b"), List.of("id", "k", "w"), List.of("id")),
            List.of("nokey"), new BaseTable(3, new QualifiedName("public", "nokey"), List.of("k", "v"), List.of()));

    private static void check(String query) throws Exception {
        Determinism.requireFunctionOfData(new QueryParser().parse(query), TABLES);
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT DISTINCT ON (k) k, s FROM a ORDER BY k, id",
            "SELECT DISTINCT ON (k) k, s FROM a ORDER BY k, a.id DESC",
            "SELECT DISTINCT ON (a.k) a.k, w FROM a JOIN b ON a.k = b.k ORDER BY a.k, a.id, b.id",
            "SELECT DISTINCT ON (k) k FROM nokey",
            "SELECT id, (SELECT w FROM b WHERE b.k = a.k ORDER BY b.id LIMIT 1) AS w FROM a",
            "SELECT * FROM (SELECT k, count(*) AS n FROM a GROUP BY k ORDER BY k LIMIT 2) t",
            "SELECT id FROM a ORDER BY s LIMIT 3",
            "SELECT q.xmin FROM (SELECT id AS xmin FROM a) q",
    })
    void aTotalOrderOrDataColumnsOnlyPass(String query) {
        assertThatCode(() -> check(query)).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " ==> ", value = {
            "SELECT id, xmin AS x FROM a ==> system column xmin",
            "SELECT id FROM a WHERE a.ctid = '(0,1)' ==> system column ctid",
            "SELECT tableoid::regclass AS t FROM a ==> system column tableoid",
            "SELECT DISTINCT ON (k) k, s FROM a ==> DISTINCT ON without an ORDER BY",
            "SELECT DISTINCT ON (k) k, s FROM a ORDER BY k, s ==> DISTINCT ON without an ORDER BY",
            "SELECT DISTINCT ON (k) k, v FROM nokey ORDER BY k, v ==> DISTINCT ON without an ORDER BY",
            "SELECT DISTINCT ON (a.k) a.k, w FROM a JOIN b ON a.k = b.k ORDER BY a.k, a.id ==> DISTINCT ON without an ORDER BY",
            "SELECT DISTINCT ON (k) k, s AS id FROM a ORDER BY k, id ==> DISTINCT ON without an ORDER BY",
            "SELECT id, (SELECT w FROM b WHERE b.k = a.k LIMIT 1) AS w FROM a ==> LIMIT/OFFSET without an ORDER BY",
            "SELECT * FROM (SELECT id, k FROM a ORDER BY k OFFSET 1) t ==> LIMIT/OFFSET without an ORDER BY",
    })
    void whatIsNotAFunctionOfTheDataIsRefusedNamingIt(String query, String reason) {
        assertThatThrownBy(() -> check(query)).isInstanceOf(NotDifferentiable.class).hasMessageContaining(reason);
    }
}
