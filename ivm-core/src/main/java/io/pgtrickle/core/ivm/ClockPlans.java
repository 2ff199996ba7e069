package io.pgtrickle.core.ivm;

/**
 * Where a compiled plan may read the clock. The sliding-window rule ({@link ClockFilter},
 * {@link ClockTerms}) applies to the WHERE of the defining query's own SELECT, grouped or not; a
 * refresh computes one clock move for it, and a top-k over it ({@link TopKPlan}) sees the rows
 * that enter or leave among its changes. Inside a set operation's branch, a subquery in FROM or
 * under window functions no refresh would move that clock, so such plans are refused.
 */
public final class ClockPlans {
    private ClockPlans() {
    }

    /** The clock filter a refresh of {@code plan} maintains, or null when the plan does not read the clock. */
    public static ClockFilter of(IvmPlan plan) {
        return plan instanceof SelectPlan select ? select.clock() : plan instanceof TopKPlan topK ? of(topK.inner()) : null;
    }

    /** @throws NotDifferentiable when the plan reads the clock where no sliding-window rule applies */
    public static void requireSupported(IvmPlan plan) throws NotDifferentiable {
        if (plan instanceof SelectPlan select) {
            ClockFilter clock = select.clock();
            if (clock != null && select.windowed()) {
                throw new NotDifferentiable("the clock (now(), current_date, …) in the WHERE of a query with window"
                        + " functions has no delta rule yet; refresh FULL");
            }
            for (FromItem item : select.from().items()) {
                if (item.derived() != null && readsClock(item.derived())) {
                    throw new NotDifferentiable("the clock (now(), current_date, …) in a subquery in FROM has no delta"
                            + " rule yet; move the condition to the outer query's WHERE, where it is maintained as a"
                            + " sliding window");
                }
            }
        } else if (plan instanceof SetOpPlan setOp && readsClock(setOp)) {
            throw new NotDifferentiable("the clock (now(), current_date, …) in a branch of a set operation has no delta"
                    + " rule yet; keep it in the WHERE of a single SELECT (a stream table per branch), or refresh FULL");
        } else if (plan instanceof TopKPlan topK) {
            requireSupported(topK.inner());
        } else if (!(plan instanceof SetOpPlan) && readsClock(plan)) {
            throw new NotDifferentiable("the clock (now(), current_date, …) in this query's shape has no delta rule yet;"
                    + " keep it in the WHERE of a plain or grouped SELECT, or refresh FULL");
        }
    }

    /** A clock name as a word of SQL text: conservative, for plan kinds this rule does not look into. */
    private static final java.util.regex.Pattern CLOCK_WORD = java.util.regex.Pattern.compile(
            "\\b(" + String.join("|", ClockFilter.CLOCK) + ")\\b", java.util.regex.Pattern.CASE_INSENSITIVE);

    private static boolean readsClock(IvmPlan plan) {
        if (plan instanceof SelectPlan select) {
            return select.clock() != null
                    || select.from().items().stream().anyMatch(i -> i.derived() != null && readsClock(i.derived()));
        }
        if (plan instanceof SetOpPlan setOp) {
            return readsClock(setOp.left()) || readsClock(setOp.right());
        }
        if (plan instanceof TopKPlan topK) {
            return readsClock(topK.inner());
        }
        // Another kind of plan (a recursive CTE's): no refresh moves a clock inside it.
        return CLOCK_WORD.matcher(plan.currentSql()).find();
    }
}
