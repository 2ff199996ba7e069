package io.pgtrickle.core.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class RefreshCostModelTest {
    private static RefreshCostModel.History history(List<Double> full, List<Double> perRow) {
        return new RefreshCostModel.History(full, perRow);
    }

    @Test
    void withoutTimingsTheShareOfChangedRowsDecides() {
        var none = history(List.of(), List.of());
        assertThat(RefreshCostModel.decide(none, 300, 1000).full()).isTrue();
        assertThat(RefreshCostModel.decide(none, 200, 1000).full()).isFalse();
        assertThat(RefreshCostModel.decide(none, 150, 0).full()).as("unknown table size").isFalse();
        assertThat(RefreshCostModel.decide(none, 50, 60).full()).as("a small window is always differential").isFalse();
    }

    @Test
    void measuredTimingsOverrideTheRatio() {
        // FULL takes ~100 ms, a change ~0.5 ms: 150 changes (15 % of the rows) already cost more.
        var slowDeltas = history(List.of(90.0, 100.0, 110.0), List.of(0.4, 0.5, 0.6));
        assertThat(RefreshCostModel.decide(slowDeltas, 300, 1000).full()).isTrue();
        assertThat(RefreshCostModel.decide(slowDeltas, 150, 1000).full()).isFalse();
        // Cheap deltas stay differential far past the 25 % rule.
        var cheapDeltas = history(List.of(1000.0), List.of(0.01));
        assertThat(RefreshCostModel.decide(cheapDeltas, 900, 1000).full()).isFalse();
        assertThat(RefreshCostModel.decide(cheapDeltas, 900, 1000).reason()).contains("measured");
    }

    @Test
    void withAFullTimingButNoDifferentialOneAnAssumedCostPerChangeDecides() {
        // FULL took 1 s (say, the populating refresh): 240,000 changes at the assumed cost are 3.6 s.
        var onlyFull = history(List.of(1000.0), List.of());
        assertThat(RefreshCostModel.decide(onlyFull, 240_000, 7_500_000).full()).isTrue();
        assertThat(RefreshCostModel.decide(onlyFull, 240_000, 7_500_000).reason()).contains("assumed");
        assertThat(RefreshCostModel.decide(onlyFull, 24_000, 7_500_000).full()).isFalse();
    }

    @Test
    void aMarginKeepsTheChoiceFromFlappingAtTheBreakEven() {
        var h = history(List.of(100.0), List.of(1.0));
        assertThat(RefreshCostModel.decide(h, 110, 1_000_000).full()).isFalse();
        assertThat(RefreshCostModel.decide(h, 130, 1_000_000).full()).isTrue();
    }

    @Test
    void medianIgnoresOneOutlier() {
        assertThat(RefreshCostModel.median(List.of(1.0, 2.0, 500.0)).getAsDouble()).isEqualTo(2.0);
        assertThat(RefreshCostModel.median(List.of(1.0, 3.0)).getAsDouble()).isEqualTo(2.0);
        assertThat(RefreshCostModel.median(List.of()).isPresent()).isFalse();
    }

    /** What lets a refresh count a large window only up to the break-even size. */
    @Test
    void breakEvenIsTheSmallestWindowDecidedFull() {
        var random = new java.util.Random(20261203);
        for (int i = 0; i < 2000; i++) {
            List<Double> full = random.nextInt(4) == 0 ? List.of() : List.of(1 + random.nextDouble() * 5000);
            List<Double> perRow = random.nextInt(3) == 0 ? List.of() : List.of(0.001 + random.nextDouble() * 0.1);
            double sourceRows = random.nextInt(5) == 0 ? 0 : random.nextInt(10_000_000);
            var h = history(full, perRow);
            long breakEven = RefreshCostModel.breakEven(h, sourceRows);
            String seen = h + ", " + sourceRows + " source rows, break-even " + breakEven;
            if (breakEven == Long.MAX_VALUE) {
                assertThat(RefreshCostModel.decide(h, 1L << 40, sourceRows).full()).as(seen).isFalse();
                continue;
            }
            assertThat(RefreshCostModel.decide(h, breakEven, sourceRows).full()).as(seen).isTrue();
            assertThat(RefreshCostModel.decide(h, breakEven - 1, sourceRows).full()).as(seen).isFalse();
            assertThat(RefreshCostModel.decide(h, breakEven + random.nextInt(1_000_000), sourceRows).full()).as(seen).isTrue();
        }
    }
}
