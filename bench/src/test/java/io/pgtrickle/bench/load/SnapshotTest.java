package io.pgtrickle.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Visibility by pg_snapshot, and finding the first frontier that shows a transaction. */
class SnapshotTest {
    @Test
    void seesCommittedTransactionsBeforeXmaxThatWereNotInProgress() {
        Snapshot s = Snapshot.parse("100:105:101,103");

        assertThat(s.sees(99)).isTrue();
        assertThat(s.sees(100)).isTrue();
        assertThat(s.sees(101)).isFalse();
        assertThat(s.sees(102)).isTrue();
        assertThat(s.sees(103)).isFalse();
        assertThat(s.sees(105)).isFalse();
        assertThat(Snapshot.parse("7:7:").sees(6)).isTrue();
    }

    @Test
    void firstSeeingIsTheEarliestFrontierThatShowsTheTransaction() {
        List<LoadBench.Observation> o = List.of(new LoadBench.Observation(10, Snapshot.parse("100:100:")),
                new LoadBench.Observation(20, Snapshot.parse("100:110:104")),
                new LoadBench.Observation(30, Snapshot.parse("120:120:")));

        assertThat(LoadBench.firstSeeing(o, 99)).isZero();
        assertThat(LoadBench.firstSeeing(o, 103)).isEqualTo(1);
        assertThat(LoadBench.firstSeeing(o, 104)).isEqualTo(2);
        assertThat(LoadBench.firstSeeing(o, 125)).isEqualTo(-1);
    }
}
