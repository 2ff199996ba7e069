package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class TransactionPositionsTest {
    @Test
    void positionsCountFromOneWithinEachTransactionAsDebeziumsTotalOrderDid() {
        TransactionPositions positions = new TransactionPositions();

        assertThat(positions.next(700)).isEqualTo(1);
        assertThat(positions.next(700)).isEqualTo(2);
        assertThat(positions.next(700)).isEqualTo(3);
        assertThat(positions.next(701)).isEqualTo(1);
        assertThat(positions.next(701)).isEqualTo(2);
        assertThat(positions.next(702)).isEqualTo(1);
    }

    @Test
    void aFailedBatchHandedOverAgainGetsTheSamePositions() {
        TransactionPositions positions = new TransactionPositions();
        positions.next(700);
        positions.next(700);

        TransactionPositions.Mark start = positions.mark();
        long[] first = {positions.next(700), positions.next(701), positions.next(701)};
        positions.reset(start);
        long[] again = {positions.next(700), positions.next(701), positions.next(701)};

        assertThat(first).containsExactly(3, 1, 2);
        assertThat(again).containsExactly(first);
    }
}
