package io.pgtrickle.bench.tpch;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class AutoComparisonTest {
    @Test
    void bestIsTheFasterOfDifferentialAndFull() {
        assertThat(AutoComparison.best(120, 400)).isEqualTo(120);
        assertThat(AutoComparison.best(900, 400)).isEqualTo(400);
    }

    @Test
    void bestIsTheMeasuredOneWhenTheOtherIsMissing() {
        assertThat(AutoComparison.best(Double.NaN, 400)).isEqualTo(400);
        assertThat(AutoComparison.best(120, Double.NaN)).isEqualTo(120);
        assertThat(AutoComparison.best(Double.NaN, Double.NaN)).isNaN();
    }

    @Test
    void ratioDividesAutoByTheBetterOneAndIsNaNWhenAFigureIsMissing() {
        assertThat(AutoComparison.ratio(150, 100, 400)).isEqualTo(1.5);
        assertThat(AutoComparison.ratio(380, Double.NaN, 400)).isEqualTo(0.95);
        assertThat(AutoComparison.ratio(Double.NaN, 100, 400)).isNaN();
        assertThat(AutoComparison.ratio(150, Double.NaN, Double.NaN)).isNaN();
        assertThat(AutoComparison.ratio(150, 0, 400)).isNaN();
    }

    @Test
    void onlyRatiosAboveTheLimitAreTooSlow() {
        assertThat(AutoComparison.tooSlow(1.2)).isFalse();
        assertThat(AutoComparison.tooSlow(1.21)).isTrue();
        assertThat(AutoComparison.tooSlow(0.5)).isFalse();
        assertThat(AutoComparison.tooSlow(Double.NaN)).isFalse();
    }

    @Test
    void actionsNameASingleChoiceOnceAndCountMixedOnes() {
        assertThat(AutoComparison.actions(List.of("FULL", "FULL"))).isEqualTo("FULL");
        assertThat(AutoComparison.actions(List.of("DIFFERENTIAL", "FULL", "DIFFERENTIAL")))
                .isEqualTo("DIFFERENTIAL 2, FULL 1");
        assertThat(AutoComparison.actions(Arrays.asList(null, "FULL"))).isEqualTo("FULL");
        assertThat(AutoComparison.actions(List.of())).isEmpty();
    }
}
