package io.pgtrickle.bench.tpch;

import static org.assertj.core.api.Assertions.assertThat;

import io.trino.tpch.TpchTable;
import org.junit.jupiter.api.Test;

class TpchSchemaTest {
    @Test
    void tablesFollowTheSpecWithPrimaryKeys() {
        String lineitem = TpchSchema.createTable(TpchTable.LINE_ITEM);

        assertThat(lineitem).startsWith("CREATE TABLE public.lineitem (")
                .contains("l_orderkey bigint NOT NULL", "l_linenumber integer NOT NULL",
                        "l_extendedprice numeric(15,2) NOT NULL", "l_shipdate date NOT NULL",
                        "l_comment varchar(44) NOT NULL", "PRIMARY KEY (l_orderkey, l_linenumber)");
        assertThat(TpchSchema.tables()).hasSize(8);
    }

    @Test
    void generatorLinesLoseTheirTrailingPipe() {
        String line = TpchSchema.line(TpchTable.REGION.createGenerator(0.01, 1, 1).iterator().next());

        assertThat(line).startsWith("0|AFRICA|").doesNotEndWith("|");
    }
}
