package io.pgtrickle.bench.tpch;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ChangeSizeTest {
    @Test
    void parsesPercentagesWithOrWithoutTheSign() {
        assertThat(ChangeSize.parseList("0.1%,1%, 10")).extracting(ChangeSize::label)
                .containsExactly("0.1%", "1%", "10%");
    }

    @Test
    void parsesRowsWrittenNextToPercentages() {
        assertThat(ChangeSize.parseList("1000rows, 0.1%,500 rows,16row")).extracting(ChangeSize::label)
                .containsExactly("1000rows", "0.1%", "500rows", "16rows");
        assertThat(ChangeSize.parseList("1000rows").get(0)).isEqualTo(ChangeSize.ofRows(1000))
                .satisfies(c -> assertThat(c.inRows()).isTrue());
        assertThat(new ChangeSize(0.1).inRows()).isFalse();
    }

    @Test
    void ordersOfRoundsAndTouchesAtLeastOne() {
        assertThat(new ChangeSize(0.1).ordersOf(150_000)).isEqualTo(150);
        assertThat(new ChangeSize(10).ordersOf(15_000)).isEqualTo(1500);
        assertThat(new ChangeSize(0.1).ordersOf(500)).isEqualTo(1);
    }

    @Test
    void rowsWrittenAreSixteenPerOrderEachWayWhateverTheScale() {
        // 1 order + 4 lineitems inserted, the same deleted, 1 order + 4 lineitems + 1 customer updated.
        assertThat(ChangeSize.ofRows(1000).ordersOf(1_500_000)).isEqualTo(63);
        assertThat(ChangeSize.ofRows(1000).ordersOf(15_000)).isEqualTo(63);
        assertThat(ChangeSize.ofRows(24_000).ordersOf(1_500_000)).isEqualTo(1500);
        assertThat(ChangeSize.ofRows(16).ordersOf(15_000)).isEqualTo(1);
    }

    @Test
    void aSizeInRowsNeedingMoreThanHalfTheOrdersIsRefusedNamingBoth() {
        assertThatThrownBy(() -> ChangeSize.ofRows(200_000).ordersOf(15_000))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("change 200000rows needs 12,500 orders each way, more than half of the 15,000 orders:"
                        + " use a smaller size or a larger --sf");
    }

    @Test
    void describesBothFormsForChartTitles() {
        assertThat(new ChangeSize(0.1).description()).isEqualTo("a 0.1% change");
        assertThat(ChangeSize.ofRows(1000).description()).isEqualTo("a change of about 1,000 rows");
    }

    @Test
    void rejectsWhatIsNotAShareOfTheOrdersNorRowsWritten() {
        for (String bad : new String[] {"0%", "-1%", "51%", "lots", "", "0rows", "15rows", "-5rows", "1.5rows",
                "99999999999999999999rows", "1000 orders"}) {
            assertThatThrownBy(() -> ChangeSize.parseList(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
