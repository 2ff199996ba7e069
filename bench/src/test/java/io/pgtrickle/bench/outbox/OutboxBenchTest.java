package io.pgtrickle.bench.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import org.junit.jupiter.api.Test;

class OutboxBenchTest {
    @Test
    void thePairedOverheadIsTheMedianOfTheRoundsOwnRatios() {
        // Rounds of 1.1x, 1.3x and 2x: the median ratio is 1.3 whatever the speed of each round.
        assertThat(OutboxBench.pairedOverheadPercent(List.of(100L, 10L, 50L), List.of(110L, 20L, 65L)))
                .isCloseTo(30.0, within(1e-9));
        assertThat(OutboxBench.pairedOverheadPercent(List.of(100L, 100L), List.of(110L, 130L)))
                .isCloseTo(20.0, within(1e-9));
    }
}
