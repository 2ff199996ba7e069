package io.pgtrickle.core.ivm;

import io.pgtrickle.core.capture.RowDecoder;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * GROUPING SETS, ROLLUP or CUBE whose every grouping set has algebraic aggregates: the UNION ALL
 * of one GROUP BY per set ({@link GroupingSetsRewrite}), each branch with its own aggregate state
 * ({@link AggregateState}, one table per branch), so a change updates each set's groups from their
 * state instead of rescanning them. The stream table is keyed by group: a row's hash is its
 * branch's group-key hash salted with the branch's position, since two sets can have equal keys
 * (CUBE (a, b) has the group a = 1 and the group b = 1).
 *
 * @param branches one algebraic grouped SELECT per grouping set, in the rewrite's order
 */
public record GroupingSetsPlan(List<SelectPlan> branches, List<String> names) implements IvmPlan {

    /**
     * The plan for {@code union} (a rewrite's UNION ALL), or {@code union} itself when a branch
     * is not algebraic or two branches would share a state table (a grouping set repeated).
     */
    static IvmPlan of(IvmPlan union) {
        List<SelectPlan> branches = new ArrayList<>();
        if (!collect(union, branches)) {
            return union;
        }
        Set<String> states = new HashSet<>();
        for (SelectPlan b : branches) {
            if (!states.add(b.aggregates().tableName(0))) {
                return union;
            }
        }
        return new GroupingSetsPlan(List.copyOf(branches), union.names());
    }

    private static boolean collect(IvmPlan plan, List<SelectPlan> out) {
        if (plan instanceof SetOpPlan op && op.kind() == SetOpPlan.Kind.UNION && op.all()) {
            return collect(op.left(), out) && collect(op.right(), out);
        }
        if (plan instanceof SelectPlan select && select.aggregates() != null) {
            out.add(select);
            return true;
        }
        return false;
    }

    /** {@code hash} (a branch's group-key hash, uuid) salted with branch {@code i}'s position. */
    static String salted(int i, String hash) {
        return "md5('" + i + ":' || " + hash + "::text)::uuid";
    }

    @Override
    public Set<Long> relids() {
        Set<Long> out = new HashSet<>();
        branches.forEach(b -> out.addAll(b.relids()));
        return out;
    }

    @Override
    public Map<Long, RowDecoder> decoders() {
        Map<Long, RowDecoder> out = new HashMap<>();
        branches.forEach(b -> b.decoders().forEach(out::putIfAbsent));
        return out;
    }

    @Override
    public String currentSql() {
        return branches.stream().map(b -> "(" + b.currentSql() + ")").collect(Collectors.joining("\nUNION ALL\n"));
    }

    /** As a Z-set (a subquery in FROM, the inner query of a top-k): the branches' deltas, concatenated. */
    @Override
    public String delta(DeltaContext ctx) {
        List<String> parts = new ArrayList<>();
        for (SelectPlan b : branches) {
            String d = b.delta(ctx);
            if (d != null) {
                parts.add("(" + d + ")");
            }
        }
        return parts.isEmpty() ? null : String.join("\nUNION ALL\n", parts);
    }

    @Override
    public boolean keyed() {
        return true;
    }

    @Override
    public String strategy() {
        StringBuilder s = new StringBuilder("grouping sets: UNION ALL of " + branches.size()
                + " GROUP BYs, each with its own algebraic aggregate state  [rows keyed by set and group]");
        for (SelectPlan b : branches) {
            s.append('\n').append(b.strategy().indent(2).stripTrailing());
        }
        return s.toString();
    }

    @Override
    public String deltaSqlForExplain() {
        DeltaContext ctx = DeltaContext.allChanged(relids());
        String delta = delta(ctx);
        return ctx.setupSql() + ctx.wrap(delta);
    }
}
