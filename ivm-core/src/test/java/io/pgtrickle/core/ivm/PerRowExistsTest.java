package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.sql.QualifiedName;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Which EXISTS the flip term keeps per row: correlated through an index's first column. */
class PerRowExistsTest {
    private static final BaseTable LINEITEM = new BaseTable(1, new QualifiedName("public", "lineitem"),
            List.of("l_orderkey", "l_linenumber", "l_suppkey", "l_comment"), List.of("l_orderkey", "l_linenumber"), List.of(),
            Set.of("l_orderkey", "l_suppkey"));
    private static final Map<List<String>, BaseTable> TABLES = Map.of(List.of("lineitem"), LINEITEM);

    private static String rewritten(String condition) {
        return PerRowExists.rewrite(SqlTrees.sql(SqlTrees.parseExpression(condition)), TABLES).replaceAll("\\s+", " ");
    }

    @Test
    void anExistsCorrelatedOnAnIndexedColumnGetsOffsetZero() {
        assertThat(rewritten("EXISTS (SELECT * FROM lineitem WHERE l_orderkey = o_orderkey AND l_comment > 'a')"))
                .contains("OFFSET 0 ROWS");
        assertThat(rewritten("NOT EXISTS (SELECT * FROM lineitem l3 WHERE l3.l_orderkey = l1.l_orderkey"
                + " AND l3.l_suppkey <> l1.l_suppkey)")).contains("OFFSET 0 ROWS");
    }

    @Test
    void otherExistsStayAsWritten() {
        for (String condition : List.of(
                "EXISTS (SELECT * FROM lineitem WHERE l_comment = o_comment)", // no index
                "EXISTS (SELECT * FROM lineitem WHERE l_orderkey = l_suppkey)", // not correlated
                "EXISTS (SELECT * FROM lineitem WHERE l_orderkey = o_orderkey OR l_comment = 'x')", // not under AND
                "EXISTS (SELECT * FROM lineitem WHERE l_orderkey = o_orderkey LIMIT 1)",
                "EXISTS (SELECT * FROM other WHERE l_orderkey = o_orderkey)")) {
            String sql = SqlTrees.sql(SqlTrees.parseExpression(condition));
            assertThat(PerRowExists.rewrite(sql, TABLES)).as(condition).isSameAs(sql);
        }
    }
}
