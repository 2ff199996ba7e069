package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class Xid8Test {
    private static final long EPOCH = 1L << 32;

    @Test
    void anXidAboveTheReferenceStaysInItsEpoch() {
        // The case that lost changes: a commit decoded while the snapshot's xmax was still below it.
        assertThat(Xid8.widen(36430, 36429)).isEqualTo(36430);
        assertThat(Xid8.widen(36430, 36400)).isEqualTo(36430);
        assertThat(Xid8.widen(5 * EPOCH + 1000 & 0xFFFF_FFFFL, 5 * EPOCH + 999)).isEqualTo(5 * EPOCH + 1000);
    }

    @Test
    void anXidAtOrBelowTheReferenceStaysInItsEpoch() {
        assertThat(Xid8.widen(36429, 36429)).isEqualTo(36429);
        assertThat(Xid8.widen(100, 36429)).isEqualTo(100);
        assertThat(Xid8.widen(1000, 7 * EPOCH + 2000)).isEqualTo(7 * EPOCH + 1000);
    }

    @Test
    void anXidJustBeforeTheEpochBoundaryBelongsToThePreviousEpoch() {
        // Reference just after wraparound into epoch 1; the xid was assigned just before it.
        assertThat(Xid8.widen(0xFFFF_FFF0L, EPOCH + 5)).isEqualTo(0xFFFF_FFF0L);
    }

    @Test
    void anXidJustAfterTheEpochBoundaryBelongsToTheNextEpoch() {
        // Reference just before wraparound; the xid was assigned after it, in epoch 1.
        assertThat(Xid8.widen(5, 0xFFFF_FFF0L)).isEqualTo(EPOCH + 5);
        assertThat(Xid8.widen(3, EPOCH - 1)).isEqualTo(EPOCH + 3);
    }

    @Test
    void distancesUpToTwoToThe31AreExactBothWays() {
        long reference = 3 * EPOCH + 0x8000_0000L;
        assertThat(Xid8.widen(0xFFFF_FFFFL, reference)).isEqualTo(3 * EPOCH + 0xFFFF_FFFFL);
        assertThat(Xid8.widen(1, reference)).isEqualTo(3 * EPOCH + 1);
    }

    @Test
    void anImpossibleResultIsRefusedInsteadOfWrappingAround() {
        // Before the fix this widened to a negative number that ::text::xid8 silently wrapped to ~2^64.
        assertThatThrownBy(() -> Xid8.widen(0xFFFF_FFF0L, 100))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("4294967280")
                .hasMessageContaining("not a valid xid8");
        assertThatThrownBy(() -> Xid8.widen(-1, 100)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Xid8.widen(1L << 32, 100)).isInstanceOf(IllegalArgumentException.class);
    }
}
