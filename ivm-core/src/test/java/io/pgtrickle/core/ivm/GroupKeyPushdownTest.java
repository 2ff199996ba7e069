package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Which INs the delta terms correlate on the subquery's group key, and into what. */
class GroupKeyPushdownTest {
    private static String rewritten(String where) {
        return GroupKeyPushdown.rewrite(SqlTrees.sql(SqlTrees.parseExpression(where))).replaceAll("\\s+", " ");
    }

    @Test
    void anInOnTheGroupKeyBecomesACorrelatedExists() {
        assertThat(rewritten("o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey HAVING sum(l_quantity) > 300)"
                + " AND c_custkey = o_custkey"))
                .isEqualTo("((EXISTS (SELECT 1 FROM (SELECT \"l_orderkey\" AS \"__pgt_x\" FROM \"lineitem\" GROUP BY"
                        + " \"l_orderkey\" HAVING (SUM(\"l_quantity\") > 300)) AS \"__pgt_s\" WHERE (\"o_orderkey\" ="
                        + " \"__pgt_s\".\"__pgt_x\") OFFSET 0 ROWS)) AND (\"c_custkey\" = \"o_custkey\"))");
    }

    @Test
    void underOrAndOnAKeyAmongSeveral() {
        assertThat(rewritten("a = 1 OR (b > 2 AND k IN (SELECT t.y FROM t WHERE t.z > 0 GROUP BY t.z, t.y HAVING count(*) > 1))"))
                .contains("EXISTS (SELECT 1 FROM (SELECT \"t\".\"y\" AS \"__pgt_x\" FROM \"t\" WHERE (\"t\".\"z\" > 0)"
                        + " GROUP BY \"t\".\"z\", \"t\".\"y\" HAVING (COUNT(*) > 1)) AS \"__pgt_s\" WHERE (\"k\" ="
                        + " \"__pgt_s\".\"__pgt_x\") OFFSET 0 ROWS)");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "k NOT IN (SELECT y FROM t GROUP BY y HAVING count(*) > 1)",
        "NOT (k IN (SELECT y FROM t GROUP BY y HAVING count(*) > 1))",
        "(k IN (SELECT y FROM t GROUP BY y HAVING count(*) > 1)) IS NULL",
        "CASE WHEN k IN (SELECT y FROM t GROUP BY y) THEN false ELSE true END",
        "coalesce(k IN (SELECT y FROM t GROUP BY y), true)",
        "k IN (SELECT max(y) FROM t GROUP BY z)",
        "k IN (SELECT y FROM t)",
        "k IN (SELECT y FROM t GROUP BY ROLLUP (y))",
        "(k, j) IN (SELECT y, z FROM t GROUP BY y, z)",
        "k IN (SELECT y FROM t GROUP BY y LIMIT 3)",
        "k IN (SELECT y FROM t GROUP BY y UNION SELECT y FROM u)",
        "(SELECT max(y) FROM u) IN (SELECT y FROM t GROUP BY y)",
        "k IN (SELECT y + (SELECT 1) FROM t GROUP BY y + (SELECT 1))",
    })
    void otherShapesAreLeftAsWritten(String where) {
        String sql = SqlTrees.sql(SqlTrees.parseExpression(where));
        assertThat(GroupKeyPushdown.rewrite(sql)).isSameAs(sql);
    }
}
