package io.pgtrickle.bench.tpch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The 22 queries as the generator ships them, adapted for stream tables, without a database. */
class TpchQueriesTest {
    @Test
    void allTwentyTwoLoadWithoutTopLevelOrderingOrComments() {
        List<TpchQuery> queries = TpchQueries.all();

        assertThat(queries).hasSize(22);
        for (TpchQuery q : queries) {
            assertThat(TpchQueries.topLevelOrderBy(q.sql())).as(q.label()).isEqualTo(-1);
            assertThat(q.sql()).as(q.label()).doesNotContain("--").doesNotEndWith(";")
                    .doesNotContainIgnoringCase("LIMIT ").doesNotContainIgnoringCase("CREATE ");
        }
    }

    @Test
    void adaptationsAreListedPerQuery() {
        assertThat(TpchQueries.query(6).adaptations()).isEmpty();
        assertThat(TpchQueries.query(1).adaptations()).containsExactly("without ORDER BY");
        assertThat(TpchQueries.query(3).adaptations()).containsExactly("without ORDER BY … LIMIT 10");
        assertThat(TpchQueries.query(15).adaptations()).containsExactly("view revenue as a CTE", "without ORDER BY");
        assertThat(TpchQueries.query(18).adaptations())
                .containsExactly("without ORDER BY … LIMIT 100", "names sum(l_quantity) sum_quantity");
    }

    @Test
    void q15UsesACteAndQ18NamesItsSum() {
        assertThat(TpchQueries.query(15).sql()).startsWith("WITH revenue AS (").contains("max(total_revenue)");
        assertThat(TpchQueries.query(18).sql()).contains("sum(l_quantity) AS sum_quantity");
    }

    @Test
    void orderByInsideASubqueryOrLiteralIsKept() {
        TpchQuery q = TpchQueries.adapt(6, "SELECT a FROM (SELECT a FROM t ORDER BY a) s WHERE b = 'ORDER BY x'"
                + "\nORDER BY a DESC LIMIT 5;");

        assertThat(q.sql()).isEqualTo("SELECT a FROM (SELECT a FROM t ORDER BY a) s WHERE b = 'ORDER BY x'");
        assertThat(q.adaptations()).containsExactly("without ORDER BY … LIMIT 5");
    }

    @Test
    void selectionsParse() {
        assertThat(TpchQueries.parseSelection("all")).hasSize(22);
        assertThat(TpchQueries.parseSelection("1,3,6")).containsExactly(1, 3, 6);
        assertThat(TpchQueries.parseSelection("q1-q3, 14,2")).containsExactly(1, 2, 3, 14);
        for (String bad : new String[] {"0", "23", "5-2", "x", "", "1,,2"}) {
            assertThatThrownBy(() -> TpchQueries.parseSelection(bad)).as(bad)
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("invalid query list");
        }
    }
}
