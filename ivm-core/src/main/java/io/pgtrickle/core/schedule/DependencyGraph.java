package io.pgtrickle.core.schedule;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** The directed acyclic graph of stream tables: an edge runs from a source to its reader. */
public final class DependencyGraph {
    private final Set<Long> nodes;
    private final Map<Long, Set<Long>> upstream;
    private final Map<Long, Set<Long>> downstream = new HashMap<>();

    /**
     * @param nodes all stream table ids
     * @param upstream for each stream table, the stream tables it reads
     */
    public DependencyGraph(Collection<Long> nodes, Map<Long, Set<Long>> upstream) {
        this.nodes = new TreeSet<>(nodes);
        this.upstream = upstream;
        upstream.forEach((reader, sources) -> sources.forEach(src ->
                downstream.computeIfAbsent(src, k -> new LinkedHashSet<>()).add(reader)));
    }

    public Set<Long> upstreamOf(long id) {
        return upstream.getOrDefault(id, Set.of());
    }

    public Set<Long> downstreamOf(long id) {
        return downstream.getOrDefault(id, Set.of());
    }

    /** Every stream table after all the ones it reads (Kahn's algorithm; ties by id). */
    public List<Long> topologicalOrder() {
        Map<Long, Integer> indegree = new HashMap<>();
        for (long n : nodes) {
            indegree.put(n, (int) upstreamOf(n).stream().filter(nodes::contains).count());
        }
        Deque<Long> ready = new ArrayDeque<>();
        nodes.stream().filter(n -> indegree.get(n) == 0).forEach(ready::add);
        List<Long> order = new ArrayList<>();
        while (!ready.isEmpty()) {
            long n = ready.poll();
            order.add(n);
            for (long d : new TreeSet<>(downstreamOf(n))) {
                if (indegree.merge(d, -1, Integer::sum) == 0) {
                    ready.add(d);
                }
            }
        }
        if (order.size() != nodes.size()) {
            throw new IllegalStateException("the stream table dependencies contain a cycle");
        }
        return order;
    }
}
