package io.pgtrickle.core.schedule;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongPredicate;

/**
 * What one scheduler step refreshes: one stream table, or the branches of an atomic diamond
 * together (one transaction, one snapshot).
 */
record Unit(List<Long> ids) {
    Unit {
        ids = List.copyOf(ids);
    }

    /** The stream tables the unit's members read, the members themselves left out. */
    Set<Long> upstream(Map<Long, Set<Long>> upstream) {
        Set<Long> out = new HashSet<>();
        ids.forEach(id -> out.addAll(upstream.getOrDefault(id, Set.of())));
        out.removeAll(ids);
        return out;
    }

    /**
     * The units of a tick, in topological order: each due stream table alone, but a due member of
     * an atomic group brings in the group's other members (that may run: not suspended or backing
     * off). Overlapping groups merge. A group takes the place of its last member in {@code order}:
     * its members read none of each other, so every source of every member comes before it.
     */
    static List<Unit> plan(List<Long> order, Set<Long> due, List<List<Long>> atomicGroups, LongPredicate mayRun) {
        Map<Long, Set<Long>> groupOf = merged(atomicGroups);
        Set<Long> wanted = new HashSet<>(due);
        for (long id : due) {
            groupOf.getOrDefault(id, Set.of()).stream().filter(mayRun::test).forEach(wanted::add);
        }
        Map<Long, Integer> position = new HashMap<>();
        for (int i = 0; i < order.size(); i++) {
            position.put(order.get(i), i);
        }
        List<Unit> units = new ArrayList<>();
        Set<Long> placed = new HashSet<>();
        for (long id : order) {
            if (!wanted.contains(id) || placed.contains(id)) {
                continue;
            }
            Set<Long> group = groupOf.get(id);
            if (group == null) {
                units.add(new Unit(List.of(id)));
                placed.add(id);
                continue;
            }
            List<Long> members = group.stream().filter(wanted::contains).sorted().toList();
            long last = members.stream().max((a, b) -> Integer.compare(position.getOrDefault(a, -1),
                    position.getOrDefault(b, -1))).orElseThrow();
            if (id == last) {
                units.add(new Unit(members));
                placed.addAll(members);
            }
        }
        return units;
    }

    /** Each member's group, overlapping groups merged. */
    private static Map<Long, Set<Long>> merged(List<List<Long>> groups) {
        Map<Long, Set<Long>> groupOf = new HashMap<>();
        for (List<Long> g : groups) {
            Set<Long> union = new LinkedHashSet<>(g);
            for (long id : g) {
                Set<Long> existing = groupOf.get(id);
                if (existing != null) {
                    union.addAll(existing);
                }
            }
            for (long id : union) {
                groupOf.put(id, union);
            }
        }
        return groupOf;
    }
}
