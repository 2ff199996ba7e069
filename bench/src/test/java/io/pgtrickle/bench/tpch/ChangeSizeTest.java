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
    void ordersOfRoundsAndTouchesAtLeastOne() {
        assertThat(new ChangeSize(0.1).ordersOf(150_000)).isEqualTo(150);
        assertThat(new ChangeSize(10).ordersOf(15_000)).isEqualTo(1500);
        assertThat(new ChangeSize(0.1).ordersOf(500)).isEqualTo(1);
    }

    @Test
    void rejectsWhatIsNotAShareOfTheOrders() {
        for (String bad : new String[] {"0%", "-1%", "51%", "lots", ""}) {
            assertThatThrownBy(() -> ChangeSize.parseList(bad)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
