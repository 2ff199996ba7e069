package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.query.QueryParser;
import io.pgtrickle.core.sql.QualifiedName;
import java.util.List;
import java.util.Map;
import org.apache.calcite.sql.SqlSelect;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** NATURAL and USING joins become ON joins with PostgreSQL's merged columns. */
class UsingJoinsTest {
    private static final Map<List<String>, BaseTable> TABLES = Map.of(
            List.of("a"), new BaseTable(1, new QualifiedName("public", "a"), List.of("id", "k", "s"), List.of("id")),
            List.of("b"), new BaseTable(2, new QualifiedName("public", "b"), List.of("id", "k", "w"), List.of("id")));

    private static String rewritten(String query) throws Exception {
        SqlSelect select = (SqlSelect) new QueryParser().parse(query);
        UsingJoins.rewrite(select, TABLES, q -> List.of("id", "k", "x"));
        return QueryParser.toPostgres(select).replaceAll("\\s+", " ");
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " ==> ", value = {
            "SELECT k, s, w FROM a JOIN b USING (k) ==> SELECT \"a\".\"k\" AS \"k\", \"s\", \"w\" FROM \"a\" INNER JOIN \"b\" ON (\"a\".\"k\" = \"b\".\"k\")",
            "SELECT k FROM a RIGHT JOIN b USING (k) ==> SELECT \"b\".\"k\" AS \"k\" FROM \"a\" RIGHT JOIN \"b\" ON (\"a\".\"k\" = \"b\".\"k\")",
            "SELECT k, a.k AS ak FROM a FULL JOIN b USING (k) WHERE k > 1 ==> SELECT (COALESCE(\"a\".\"k\", \"b\".\"k\")) AS \"k\", \"a\".\"k\" AS \"ak\" FROM \"a\" FULL JOIN \"b\" ON (\"a\".\"k\" = \"b\".\"k\") WHERE ((COALESCE(\"a\".\"k\", \"b\".\"k\")) > 1)",
            "SELECT * FROM a NATURAL JOIN b ==> SELECT \"a\".\"id\" AS \"id\", \"a\".\"k\" AS \"k\", \"a\".\"s\" AS \"s\", \"b\".\"w\" AS \"w\" FROM \"a\" INNER JOIN \"b\" ON ((\"a\".\"id\" = \"b\".\"id\") AND (\"a\".\"k\" = \"b\".\"k\"))",
            "SELECT k, count(*) AS n FROM a LEFT JOIN b USING (k) GROUP BY k ==> SELECT \"a\".\"k\" AS \"k\", COUNT(*) AS \"n\" FROM \"a\" LEFT JOIN \"b\" ON (\"a\".\"k\" = \"b\".\"k\") GROUP BY \"a\".\"k\"",
            "SELECT * FROM a NATURAL JOIN (SELECT 1) AS q ==> SELECT \"a\".\"id\" AS \"id\", \"a\".\"k\" AS \"k\", \"a\".\"s\" AS \"s\", \"q\".\"x\" AS \"x\" FROM \"a\" INNER JOIN (SELECT 1) AS \"q\" ON ((\"a\".\"id\" = \"q\".\"id\") AND (\"a\".\"k\" = \"q\".\"k\"))",
    })
    void theJoinBecomesAnOnJoinAndReferencesTheMergedColumn(String query, String expected) throws Exception {
        assertThat(rewritten(query)).isEqualTo(expected);
    }

    @Test
    void aMergedColumnOfAFullJoinUsedByALaterJoinIsTheCoalesce() throws Exception {
        assertThat(rewritten("SELECT k FROM a FULL JOIN b USING (k) JOIN b AS c ON c.k = k"))
                .contains("ON (\"c\".\"k\" = (COALESCE(\"a\".\"k\", \"b\".\"k\")))");
    }

    @Test
    void aSubqueryExpressionBesideAUsingJoinIsRefused() {
        assertThatThrownBy(() -> rewritten("SELECT k FROM a JOIN b USING (k) WHERE EXISTS (SELECT 1 FROM b WHERE b.k = k)"))
                .isInstanceOf(NotDifferentiable.class).hasMessageContaining("subquery expression");
    }
}
