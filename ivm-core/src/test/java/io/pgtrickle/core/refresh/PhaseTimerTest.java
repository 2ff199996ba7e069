package io.pgtrickle.core.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PhaseTimerTest {
    @Test
    void phasesAreMillisecondsInLapOrderAndARepeatedPhaseAddsUp() throws InterruptedException {
        long start = System.nanoTime();
        PhaseTimer timer = new PhaseTimer(start);
        Thread.sleep(5);
        timer.lap("plan");
        timer.lap("apply");
        Thread.sleep(5);
        timer.lap("plan");
        long total = System.nanoTime() - start;

        String json = timer.json();
        assertThat(json).matches("\\{\"plan\": \\d+\\.\\d{3}, \"apply\": \\d+\\.\\d{3}\\}");
        double plan = Double.parseDouble(json.replaceAll(".*\"plan\": ([0-9.]+).*", "$1"));
        double apply = Double.parseDouble(json.replaceAll(".*\"apply\": ([0-9.]+).*", "$1"));
        assertThat(plan).isGreaterThanOrEqualTo(10.0);
        assertThat(plan + apply).isLessThanOrEqualTo(total / 1e6 + 0.001);
    }
}
