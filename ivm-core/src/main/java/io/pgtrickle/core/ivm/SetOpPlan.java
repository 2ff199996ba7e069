package io.pgtrickle.core.ivm;

import io.pgtrickle.core.capture.RowDecoder;
import io.pgtrickle.core.sql.Identifiers;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * UNION, INTERSECT or EXCEPT (with or without ALL) of two plans. UNION ALL concatenates the
 * deltas; the others count, for each row the changes touch, how often it occurs on each side now
 * and before (now minus the change), and emit the difference of the operator's multiplicity.
 */
public record SetOpPlan(Kind kind, boolean all, IvmPlan left, IvmPlan right, List<String> names) implements IvmPlan {
    public enum Kind { UNION, INTERSECT, EXCEPT }

    @Override
    public Map<Long, RowDecoder> decoders() {
        Map<Long, RowDecoder> out = new java.util.HashMap<>(left.decoders());
        right.decoders().forEach(out::putIfAbsent);
        return out;
    }

    @Override
    public Set<Long> relids() {
        Set<Long> out = new HashSet<>(left.relids());
        out.addAll(right.relids());
        return out;
    }

    private String keyword() {
        return kind.name() + (all ? " ALL" : "");
    }

    @Override
    public String currentSql() {
        return "(" + left.currentSql() + ") " + keyword() + " (" + right.currentSql() + ")";
    }

    private static String sideDelta(IvmPlan side, DeltaContext ctx) {
        String d = side.delta(ctx);
        return d != null ? d : "SELECT *, 0::bigint AS __pgt_w FROM (" + side.currentSql() + ") __pgt_e WHERE false";
    }

    @Override
    public String delta(DeltaContext ctx) {
        if (!ctx.changedAny(relids())) {
            return null;
        }
        String l = sideDelta(left, ctx);
        String r = sideDelta(right, ctx);
        if (kind == Kind.UNION && all) {
            return "SELECT * FROM (" + l + ") __pgt_l UNION ALL SELECT * FROM (" + r + ") __pgt_r";
        }
        String cols = names.stream().map(Identifiers::quote).collect(Collectors.joining(", "));
        String hash = "md5(row(" + cols + ")::text)::uuid";
        String changes = ctx.cte("__pgt_setd", "SELECT " + hash + " AS __pgt_h, " + cols + ", __pgt_w, __pgt_b FROM (SELECT "
                + cols + ", __pgt_w, 1 AS __pgt_b FROM (" + l + ") __pgt_l UNION ALL SELECT " + cols + ", __pgt_w, 2 FROM ("
                + r + ") __pgt_r) __pgt_u");
        String now = "SELECT __pgt_h, count(*) FILTER (WHERE __pgt_b = 1) AS __pgt_m1, count(*) FILTER (WHERE __pgt_b = 2)"
                + " AS __pgt_m2 FROM (SELECT " + hash + " AS __pgt_h, __pgt_b FROM (SELECT " + cols + ", 1 AS __pgt_b FROM ("
                + left.currentSql() + ") __pgt_l UNION ALL SELECT " + cols + ", 2 FROM (" + right.currentSql()
                + ") __pgt_r) __pgt_u) __pgt_c WHERE __pgt_h IN (SELECT __pgt_h FROM " + changes + ") GROUP BY __pgt_h";
        String m1 = "coalesce(__pgt_m.__pgt_m1, 0)";
        String m2 = "coalesce(__pgt_m.__pgt_m2, 0)";
        String after = multiplicity(m1, m2);
        String before = multiplicity("(" + m1 + " - __pgt_n.__pgt_d1)", "(" + m2 + " - __pgt_n.__pgt_d2)");
        return "SELECT " + names.stream().map(n -> "__pgt_r." + Identifiers.quote(n)).collect(Collectors.joining(", "))
                + ", (" + after + ") - (" + before + ") AS __pgt_w FROM (SELECT __pgt_h,"
                + " coalesce(sum(__pgt_w) FILTER (WHERE __pgt_b = 1), 0) AS __pgt_d1,"
                + " coalesce(sum(__pgt_w) FILTER (WHERE __pgt_b = 2), 0) AS __pgt_d2 FROM " + changes + " GROUP BY __pgt_h) __pgt_n"
                + " LEFT JOIN (" + now + ") __pgt_m USING (__pgt_h)"
                + " JOIN (SELECT DISTINCT ON (__pgt_h) * FROM " + changes + " ORDER BY __pgt_h) __pgt_r USING (__pgt_h)"
                + " WHERE (" + after + ") <> (" + before + ")";
    }

    /** How often a row occurs in the result, given how often it occurs on each side. */
    private String multiplicity(String m1, String m2) {
        return switch (kind) {
            case UNION -> "(" + m1 + " + " + m2 + " > 0)::int";
            case INTERSECT -> all ? "least(" + m1 + ", " + m2 + ")" : "(" + m1 + " > 0 AND " + m2 + " > 0)::int";
            case EXCEPT -> all ? "greatest(" + m1 + " - " + m2 + ", 0)" : "(" + m1 + " > 0 AND " + m2 + " = 0)::int";
        };
    }

    @Override
    public String strategy() {
        String head = keyword().toLowerCase(java.util.Locale.ROOT) + (kind == Kind.UNION && all
                ? "  [the sides' deltas concatenated]"
                : "  [per changed row, its count on each side now and before; emit the change of the result's count]");
        return head + "\n" + (left.strategy() + "\n" + right.strategy()).indent(2).stripTrailing();
    }

    @Override
    public String recomputeReason(Set<Long> changed) {
        String reason = left.recomputeReason(changed);
        return reason != null ? reason : right.recomputeReason(changed);
    }

    @Override
    public String deltaSqlForExplain() {
        DeltaContext ctx = DeltaContext.allChanged(relids());
        String sql = ctx.wrap(delta(ctx));
        return ctx.setupSql() + sql;
    }
}
