package io.pgtrickle.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DependencyGraphTest {
    @Test
    void topologicalOrderPutsEverySourceBeforeItsReaders() {
        // 4 reads 3 and 2; 3 reads 1; 2 reads 1; 5 is independent
        DependencyGraph g = new DependencyGraph(List.of(5L, 4L, 3L, 2L, 1L),
                Map.of(4L, Set.of(3L, 2L), 3L, Set.of(1L), 2L, Set.of(1L)));

        List<Long> order = g.topologicalOrder();

        assertThat(order).containsExactlyInAnyOrder(1L, 2L, 3L, 4L, 5L);
        assertThat(order.indexOf(1L)).isLessThan(order.indexOf(2L)).isLessThan(order.indexOf(4L));
        assertThat(order.indexOf(3L)).isLessThan(order.indexOf(4L));
    }

    @Test
    void aCycleIsReported() {
        DependencyGraph g = new DependencyGraph(List.of(1L, 2L), Map.of(1L, Set.of(2L), 2L, Set.of(1L)));
        assertThatThrownBy(g::topologicalOrder).hasMessageContaining("cycle");
    }

    @Test
    void calculatedSchedulesInheritTheTightestReaderTransitively() {
        // tree(calculated) <- stats(calculated) <- report(1m); stats <- alerts(10s); orphan(calculated)
        DependencyGraph g = new DependencyGraph(List.of(1L, 2L, 3L, 4L, 5L),
                Map.of(2L, Set.of(1L), 3L, Set.of(2L), 4L, Set.of(2L)));
        Map<Long, Schedule> schedules = Map.of(1L, new Schedule.Calculated(), 2L, new Schedule.Calculated(),
                3L, Schedule.parse("1m"), 4L, Schedule.parse("10s"), 5L, new Schedule.Calculated());

        Map<Long, Optional<Duration>> effective = EffectiveSchedules.compute(schedules, g);

        assertThat(effective.get(1L)).contains(Duration.ofSeconds(10));
        assertThat(effective.get(2L)).contains(Duration.ofSeconds(10));
        assertThat(effective.get(3L)).contains(Duration.ofMinutes(1));
        assertThat(effective.get(5L)).isEmpty();
    }
}
