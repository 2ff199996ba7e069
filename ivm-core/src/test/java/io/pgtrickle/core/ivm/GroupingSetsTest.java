package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.query.QueryParser;
import java.util.List;
import java.util.Set;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.util.SqlShuttle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** GROUPING SETS / ROLLUP / CUBE become the UNION ALL of one GROUP BY per set, as PostgreSQL computes them. */
class GroupingSetsTest {
    /** Columns compare without their qualifier (one table); every grouping expression is an int but b, a text. */
    private static final GroupingSets.Scope SCOPE = new GroupingSets.Scope() {
        @Override
        public SqlNode resolve(SqlNode element) {
            return element;
        }

        @Override
        public String identity(SqlNode expression) {
            return SqlTrees.sql(expression.accept(new SqlShuttle() {
                @Override
                public SqlNode visit(SqlIdentifier id) {
                    return id.isStar() ? id : new SqlIdentifier(id.names.get(id.names.size() - 1), id.getParserPosition());
                }
            }));
        }

        @Override
        public boolean isAggregate(String function) {
            return Set.of("count", "sum", "avg", "min", "max").contains(function);
        }

        @Override
        public List<String> types(List<SqlNode> expressions) {
            return expressions.stream().map(e -> SqlTrees.sql(e).equals("\"b\"") ? "text" : "integer").toList();
        }
    };

    private static String rewritten(String query) throws Exception {
        SqlSelect select = (SqlSelect) new QueryParser().parse(query);
        return QueryParser.toPostgres(GroupingSets.rewrite(select, SCOPE)).replace("\"", "").replaceAll("\\s+", " ");
    }

    @ParameterizedTest
    @CsvSource(delimiterString = " ==> ", value = {
            "SELECT a, b, sum(c) AS s FROM t GROUP BY ROLLUP (a, b) ==> SELECT a, b, SUM(c) AS s FROM t GROUP BY a, b"
                    + " UNION ALL SELECT a, CAST(NULL AS text), SUM(c) AS s FROM t GROUP BY a"
                    + " UNION ALL SELECT CAST(NULL AS integer), CAST(NULL AS text), SUM(c) AS s FROM t",
            "SELECT a, b, avg(c) AS m FROM t GROUP BY CUBE (a, b) ==> SELECT a, b, AVG(c) AS m FROM t GROUP BY a, b"
                    + " UNION ALL SELECT a, CAST(NULL AS text), AVG(c) AS m FROM t GROUP BY a"
                    + " UNION ALL SELECT CAST(NULL AS integer), b, AVG(c) AS m FROM t GROUP BY b"
                    + " UNION ALL SELECT CAST(NULL AS integer), CAST(NULL AS text), AVG(c) AS m FROM t",
            "SELECT a, b, count(*) AS n FROM t GROUP BY GROUPING SETS ((a), (b), ()) ==> SELECT a, CAST(NULL AS text),"
                    + " COUNT(*) AS n FROM t GROUP BY a UNION ALL SELECT CAST(NULL AS integer), b, COUNT(*) AS n FROM t GROUP BY b"
                    + " UNION ALL SELECT CAST(NULL AS integer), CAST(NULL AS text), COUNT(*) AS n FROM t",
            "SELECT a, b, count(*) AS n FROM t GROUP BY a, ROLLUP (b) ==> SELECT a, b, COUNT(*) AS n FROM t GROUP BY a, b"
                    + " UNION ALL SELECT a, CAST(NULL AS text), COUNT(*) AS n FROM t GROUP BY a",
            // leftmost argument, most significant bit; set when the argument is not grouped
            "SELECT a, b, GROUPING(a, b) AS g, sum(c) AS s FROM t GROUP BY ROLLUP (a, b) ==> SELECT a, b, 0 AS g, SUM(c) AS s"
                    + " FROM t GROUP BY a, b UNION ALL SELECT a, CAST(NULL AS text), 1 AS g, SUM(c) AS s FROM t GROUP BY a"
                    + " UNION ALL SELECT CAST(NULL AS integer), CAST(NULL AS text), 3 AS g, SUM(c) AS s FROM t",
            "SELECT GROUPING(b, a) AS g, count(*) AS n FROM t GROUP BY GROUPING SETS ((a), (b)) ==> SELECT 2 AS g,"
                    + " COUNT(*) AS n FROM t GROUP BY a UNION ALL SELECT 1 AS g, COUNT(*) AS n FROM t GROUP BY b",
            // duplicated sets give duplicated rows; DISTINCT removes them across the sets
            "SELECT a, count(*) AS n FROM t GROUP BY GROUPING SETS ((a), (a)) ==> SELECT a, COUNT(*) AS n FROM t GROUP BY a"
                    + " UNION ALL SELECT a, COUNT(*) AS n FROM t GROUP BY a",
            "SELECT DISTINCT a, b FROM t GROUP BY GROUPING SETS ((a, b), (a)) ==> SELECT a, b FROM t GROUP BY a, b"
                    + " UNION SELECT a, CAST(NULL AS text) FROM t GROUP BY a",
            "SELECT a FROM t GROUP BY DISTINCT ROLLUP (a), ROLLUP (a) ==> SELECT a FROM t GROUP BY a"
                    + " UNION ALL SELECT CAST(NULL AS integer) FROM t HAVING TRUE",
            // inside expressions a grouping column reads NULL; inside an aggregate it is the input's value
            "SELECT coalesce(a, 0) + 1 AS x, sum(a) FILTER (WHERE a > 1) AS s FROM t GROUP BY ROLLUP (a)"
                    + " ==> SELECT (COALESCE(a, 0) + 1) AS x, SUM(a) FILTER (WHERE (a > 1)) AS s FROM t GROUP BY a"
                    + " UNION ALL SELECT (COALESCE(CAST(NULL AS integer), 0) + 1) AS x, SUM(a) FILTER (WHERE (a > 1)) AS s FROM t",
            // HAVING per branch, GROUPING() there a constant too; t.a is the grouped a
            "SELECT t.a, count(*) AS n FROM t GROUP BY ROLLUP (a) HAVING GROUPING(a) = 1 OR t.a > 2"
                    + " ==> SELECT t.a, COUNT(*) AS n FROM t GROUP BY a HAVING ((0 = 1) OR (t.a > 2))"
                    + " UNION ALL SELECT CAST(NULL AS integer), COUNT(*) AS n FROM t HAVING ((1 = 1) OR (CAST(NULL AS integer) > 2))",
            // a grouping set of a row: one unit
            "SELECT a, b, count(*) AS n FROM t GROUP BY ROLLUP ((a, b)) ==> SELECT a, b, COUNT(*) AS n FROM t GROUP BY a, b"
                    + " UNION ALL SELECT CAST(NULL AS integer), CAST(NULL AS text), COUNT(*) AS n FROM t",
            // without aggregates () is still one row
            "SELECT a FROM t GROUP BY ROLLUP (a) ==> SELECT a FROM t GROUP BY a UNION ALL SELECT CAST(NULL AS integer) FROM t HAVING TRUE",
            "SELECT a, count(*) AS n FROM t GROUP BY GROUPING SETS ((a)) ==> SELECT a, COUNT(*) AS n FROM t GROUP BY a",
    })
    void eachGroupingSetIsOneGroupBy(String query, String expected) throws Exception {
        assertThat(rewritten(query)).isEqualTo(expected);
    }

    @Test
    void setsExpandAsPostgresExpandsThem() throws Exception {
        SqlSelect select = (SqlSelect) new QueryParser().parse("SELECT 1 FROM t GROUP BY a, CUBE (b, c), GROUPING SETS ((d), ())");
        List<String> sets = GroupingSets.sets(select.getGroup(), SCOPE).stream()
                .map(s -> String.join(",", s.stream().map(SqlTrees::sql).toList()).replace("\"", "")).toList();
        assertThat(sets).containsExactly("a,b,c,d", "a,b,c", "a,b,d", "a,b", "a,c,d", "a,c", "a,d", "a");
    }

    @Test
    void whatCannotBeRewrittenExactlyIsRefusedNamingTheConstruct() {
        assertThatThrownBy(() -> rewritten("SELECT GROUPING(z) AS g, count(*) AS n FROM t GROUP BY ROLLUP (a)"))
                .isInstanceOf(NotDifferentiable.class).hasMessageContaining("GROUPING(\"z\")");
        assertThatThrownBy(() -> rewritten("SELECT a, (SELECT max(x) FROM u WHERE u.k = t.a) AS m FROM t GROUP BY ROLLUP (a)"))
                .isInstanceOf(NotDifferentiable.class).hasMessageContaining("subquery in the select list or HAVING");
        assertThatThrownBy(() -> rewritten("SELECT * FROM t GROUP BY ROLLUP (a)"))
                .isInstanceOf(NotDifferentiable.class).hasMessageContaining("SELECT *");
        assertThatThrownBy(() -> rewritten("SELECT count(*) AS n FROM t GROUP BY CUBE (a, b, c, d, e, f, g)"))
                .isInstanceOf(NotDifferentiable.class).hasMessageContaining("more than 64 grouping sets");
    }
}
