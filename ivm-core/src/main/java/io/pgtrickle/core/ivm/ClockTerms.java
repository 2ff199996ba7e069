package io.pgtrickle.core.ivm;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;

/**
 * The time delta of a SELECT with a {@link ClockFilter}: with Q(D, t) the query over data D at
 * clock t, a refresh applies Q(D_new, t_new) − Q(D_old, t_old) = [Q(D_new, t_new) − Q(D_old,
 * t_new)] + [Q(D_old, t_new) − Q(D_old, t_old)]. The first term is the ordinary data delta (its
 * SQL reads {@code now()}, which is t_new in the refresh transaction); this class writes the
 * second: over the data as it was at the previous frontier (each changed item read as before, as
 * a Z-set), the rows whose clock conjuncts change truth between the two instants, weighted +1
 * when they enter and −1 when they leave. Only rows in a comparison's range ({@link ClockMove})
 * are read, and the range is a condition on the compared column itself, so its index serves it.
 * Grouped plans receive these rows as any other weighted change (or as touched keys).
 */
final class ClockTerms {
    private ClockTerms() {
    }

    /**
     * The time-delta term of one inner-join branch, or none when the clock did not move.
     *
     * @param projection what each row selects (the outputs as the data was, or group keys)
     * @param weighted whether to select the weight {@code __pgt_w}
     * @param filter the branch's whole condition (WHERE and its outer-join predicates), or null
     */
    static List<String> of(SelectPlan plan, ClockFilter clock, FromTree.Branch branch, DeltaContext ctx,
                           String projection, boolean weighted, String filter) {
        ClockMove move = ctx.clock();
        if (move == null || clock == null) {
            return List.of();
        }
        String from = branch.tree().render(item -> item.changed(ctx) ? item.previous(ctx) : item.current());
        String weight = branch.tree().items().stream().filter(item -> item.changed(ctx))
                .map(item -> item.quotedAlias() + ".__pgt_w").collect(Collectors.joining(" * "));
        List<String> conditions = new ArrayList<>();
        if (filter != null) {
            for (SqlNode conjunct : conjuncts(SqlTrees.parseExpression(filter))) {
                if (ClockFilter.readsClock(conjunct)) {
                    continue; // evaluated at both instants below
                }
                String sql = SqlTrees.sql(conjunct);
                // The data as it was: a subquery reads its changed tables as before.
                conditions.add("(" + (Subquery.in(conjunct, plan.tables()).isEmpty() ? sql
                        : SqlTrees.asBefore(sql, plan.tables(), ctx)) + ")");
            }
        }
        conditions.add(move.candidateSql());
        String now = "coalesce(" + clock.at(move.now()) + ", false)";
        String then = "coalesce(" + clock.at(move.before()) + ", false)";
        conditions.add(now + " <> " + then);
        String w = (weight.isEmpty() ? "" : weight + " * ") + "(" + now + "::int - " + then + "::int)";
        return List.of("SELECT " + projection + (weighted ? ", " + w + "::bigint AS __pgt_w" : "") + " FROM " + from
                + " WHERE " + String.join(" AND ", conditions));
    }

    private static List<SqlNode> conjuncts(SqlNode condition) {
        if (condition.getKind() == SqlKind.AND) {
            List<SqlNode> out = new ArrayList<>();
            for (SqlNode operand : ((SqlCall) condition).getOperandList()) {
                out.addAll(conjuncts(operand));
            }
            return out;
        }
        return List.of(condition);
    }
}
