package io.pgtrickle.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

class PacerTest {
    private static final long START = 1_000_000_000L;

    @Test
    void writersInterleaveOnAnAbsoluteSchedule() {
        // 1000 rows/s over 4 writers: writer i sends row k at (i + 4k) ms.
        Pacer w0 = new Pacer(START, Duration.ofSeconds(1), 1000, 4, 0);
        Pacer w3 = new Pacer(START, Duration.ofSeconds(1), 1000, 4, 3);

        assertThat(w0.dueNanos(0)).isEqualTo(START);
        assertThat(w0.dueNanos(1)).isEqualTo(START + 4_000_000L);
        assertThat(w3.dueNanos(0)).isEqualTo(START + 3_000_000L);
        assertThat(w3.dueNanos(249)).isEqualTo(START + 999_000_000L);
    }

    @Test
    void everySlotOfTheRunIsSentByExactlyOneWriter() {
        for (int writers : new int[] {1, 3, 4, 7}) {
            for (long rate : new long[] {1, 200, 999, 1000, 12_345}) {
                Duration length = Duration.ofMillis(2_500);
                TreeSet<Long> due = new TreeSet<>();
                long planned = 0;
                for (int i = 0; i < writers; i++) {
                    Pacer p = new Pacer(START, length, rate, writers, i);
                    planned += p.plannedRows();
                    for (long k = 0; k < p.plannedRows(); k++) {
                        assertThat(p.dueNanos(k)).isLessThan(p.endNanos());
                        assertThat(due.add(p.dueNanos(k))).isTrue();
                    }
                    assertThat(p.sends(p.plannedRows(), START)).as("row after the last planned one").isFalse();
                }
                assertThat(planned).as(writers + " writers at " + rate + "/s")
                        .isEqualTo(Pacer.plannedRows(length, rate, writers))
                        .isEqualTo((long) Math.ceil(2.5 * rate));
                assertThat(due.first()).isEqualTo(START);
            }
        }
    }

    @Test
    void theRunIsBoundedInTimeEvenWhenBehind() {
        Pacer p = new Pacer(START, Duration.ofSeconds(1), 100, 1, 0);
        assertThat(p.sends(0, START)).isTrue();
        assertThat(p.sends(5, START + 999_999_999L)).as("late but before the end").isTrue();
        assertThat(p.sends(5, START + 1_000_000_000L)).as("the end has come").isFalse();
    }

    @Test
    void rateZeroIsUnpacedAndBoundedOnlyInTime() {
        Pacer p = new Pacer(START, Duration.ofSeconds(1), 0, 2, 1);
        assertThat(p.paced()).isFalse();
        assertThat(p.dueNanos(1_000_000)).isEqualTo(START);
        assertThat(p.plannedRows()).isEqualTo(Long.MAX_VALUE);
        assertThat(p.sends(1_000_000, START + 10)).isTrue();
        assertThat(p.sends(0, START + 1_000_000_000L)).isFalse();
    }

    @Test
    void aWriterWaitsUntilItsRowIsDue() throws InterruptedException {
        long start = System.nanoTime();
        Pacer p = new Pacer(start, Duration.ofSeconds(1), 50, 1, 0);
        p.awaitDue(1);
        assertThat(System.nanoTime() - start).isGreaterThanOrEqualTo(20_000_000L);
        long late = System.nanoTime();
        p.awaitDue(0);
        assertThat(System.nanoTime() - late).as("a late row goes at once").isLessThan(20_000_000L);
    }

    @Test
    void impossibleParametersAreRejected() {
        assertThatThrownBy(() -> new Pacer(START, Duration.ofSeconds(1), -1, 1, 0))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new Pacer(START, Duration.ofSeconds(1), 10, 2, 2))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
