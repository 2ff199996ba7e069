package io.pgtrickle.core.schedule;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Resolves CALCULATED schedules: a stream table without its own interval inherits the tightest
 * interval of the stream tables that read it, transitively (a cron reader's: its shortest gap). One nobody reads with a schedule stays
 * manual (empty).
 */
public final class EffectiveSchedules {
    private EffectiveSchedules() {
    }

    public static Map<Long, Optional<Duration>> compute(Map<Long, Schedule> schedules, DependencyGraph graph) {
        Map<Long, Optional<Duration>> result = new HashMap<>();
        // Readers come later in topological order, so walk it backwards.
        var order = graph.topologicalOrder();
        for (int i = order.size() - 1; i >= 0; i--) {
            long id = order.get(i);
            Schedule own = schedules.get(id);
            if (!(own instanceof Schedule.Calculated)) {
                result.put(id, own.period());
            } else {
                result.put(id, graph.downstreamOf(id).stream()
                        .map(d -> result.getOrDefault(d, Optional.empty()))
                        .flatMap(Optional::stream)
                        .min(Duration::compareTo));
            }
        }
        return result;
    }
}
