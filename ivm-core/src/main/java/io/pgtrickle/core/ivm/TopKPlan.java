package io.pgtrickle.core.ivm;

import io.pgtrickle.core.capture.RowDecoder;
import io.pgtrickle.core.sql.Identifiers;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlOrderBy;

/**
 * {@code ORDER BY … LIMIT n [OFFSET m]} over a query (select–project–join, grouped, or a set
 * operation): the stream table holds exactly rows m+1 … m+n of the ordered result. A change can
 * alter them only if a changed row (its image before or after) sorts at or before the boundary,
 * the last row kept, or fewer than n rows are kept; then the bounded query is run again and the
 * difference applied (the delta is the new rows minus the stored ones). Otherwise the delta is
 * empty and nothing is recomputed. A changed row tied with the boundary counts as reaching it:
 * which of tied rows is kept is PostgreSQL's choice when it last ran the bounded query, as it is
 * for {@code REFRESH MATERIALIZED VIEW}.
 *
 * <p>Sort keys that are not output columns ({@code ORDER BY salary} with salary not selected, or
 * an aggregate) are computed by the inner query as hidden outputs {@code __pgt_sort_i}, which the
 * stream table does not store. The boundary is then read from the inner query as it is now (its
 * row m+n, a bounded query the planner answers with a top-N sort or an index), not from the
 * stream table: a changed row that sorts strictly after the boundary now, before and after the
 * change, leaves the first m+n rows as they were.
 *
 * @param inner the query without ORDER BY and LIMIT, with the hidden sort outputs last (its delta gives the changed rows)
 * @param order the sort keys, each an output column of {@code inner}
 * @param names the stream table's columns: {@code inner}'s outputs without the hidden ones
 */
public record TopKPlan(IvmPlan inner, List<SortKey> order, long limit, long offset, List<String> names) implements IvmPlan {
    /** Prefix of the hidden outputs that compute sort keys which are not output columns. */
    static final String HIDDEN = "__pgt_sort_";

    /** One sort key: an output column, its direction and where NULLs go. */
    public record SortKey(String column, boolean descending, boolean nullsFirst) {
        String sql(String qualifier) {
            return (qualifier == null ? "" : qualifier + ".") + Identifiers.quote(column) + (descending ? " DESC" : " ASC")
                    + (nullsFirst ? " NULLS FIRST" : " NULLS LAST");
        }

        /** Whether {@code d}'s value sorts strictly after {@code b}'s, two-valued. */
        String after(String d, String b) {
            String dc = d + "." + Identifiers.quote(column);
            String bc = b + "." + Identifiers.quote(column);
            String beyond = "coalesce(" + dc + (descending ? " < " : " > ") + bc + ", false)";
            String nullSide = nullsFirst ? "(" + bc + " IS NULL AND " + dc + " IS NOT NULL)"
                    : "(" + dc + " IS NULL AND " + bc + " IS NOT NULL)";
            return "(" + beyond + " OR " + nullSide + ")";
        }

        String equal(String d, String b) {
            return d + "." + Identifiers.quote(column) + " IS NOT DISTINCT FROM " + b + "." + Identifiers.quote(column);
        }
    }

    /** The sort keys of {@code order} over outputs {@code names}, and the expressions to add as hidden outputs. */
    record Keys(List<SortKey> keys, List<SqlNode> hidden) {
    }

    /**
     * Reads the sort keys of {@code order}: an output column (by name or position) as it is; any
     * other expression, when the query is a SELECT, as a hidden output to add to its select list.
     */
    static Keys keys(SqlOrderBy order, List<String> names) throws NotDifferentiable {
        List<SortKey> keys = new ArrayList<>();
        List<SqlNode> hidden = new ArrayList<>();
        for (SqlNode item : order.orderList) {
            keys.add(sortKey(item, names, order.query instanceof org.apache.calcite.sql.SqlSelect, hidden));
        }
        if (keys.isEmpty()) {
            throw new NotDifferentiable("LIMIT without ORDER BY is not a function of the data");
        }
        return new Keys(List.copyOf(keys), List.copyOf(hidden));
    }

    /** The top-k of {@code inner} (compiled with the hidden outputs of {@code keys} last). */
    static TopKPlan of(IvmPlan inner, Keys keys, SqlOrderBy order, List<String> names) throws NotDifferentiable {
        if (inner instanceof TopKPlan || inner instanceof RecursivePlan) {
            throw new NotDifferentiable("ORDER BY … LIMIT over this query has no delta rule yet");
        }
        long limit = order.fetch == null ? -1 : count(order.fetch, "LIMIT");
        long offset = order.offset == null ? 0 : count(order.offset, "OFFSET");
        if (limit < 0) {
            throw new NotDifferentiable("ORDER BY … OFFSET without LIMIT has no delta rule yet");
        }
        return new TopKPlan(inner, keys.keys(), limit, offset, List.copyOf(names));
    }

    private static SortKey sortKey(SqlNode item, List<String> names, boolean canHide, List<SqlNode> hidden)
            throws NotDifferentiable {
        boolean descending = false;
        Boolean nullsFirst = null;
        SqlNode e = item;
        while (e.getKind() == SqlKind.NULLS_FIRST || e.getKind() == SqlKind.NULLS_LAST || e.getKind() == SqlKind.DESCENDING) {
            if (e.getKind() == SqlKind.DESCENDING) {
                descending = true;
            } else if (nullsFirst == null) {
                nullsFirst = e.getKind() == SqlKind.NULLS_FIRST;
            }
            e = ((SqlBasicCall) e).operand(0);
        }
        String column = null;
        if (e instanceof SqlIdentifier id && id.isSimple() && names.contains(id.getSimple())) {
            column = id.getSimple();
        } else if (e instanceof SqlLiteral literal && literal.getValue() instanceof BigDecimal position
                && position.intValue() >= 1 && position.intValue() <= names.size()) {
            column = names.get(position.intValue() - 1);
        } else if (canHide && !(e instanceof SqlLiteral)) {
            column = HIDDEN + hidden.size();
            hidden.add(e);
        }
        if (column == null) {
            throw new NotDifferentiable("ORDER BY … LIMIT by " + SqlTrees.sql(e) + " has no delta rule yet");
        }
        // PostgreSQL's defaults: NULLs sort as if larger than every value.
        return new SortKey(column, descending, nullsFirst != null ? nullsFirst : descending);
    }

    private static long count(SqlNode node, String clause) throws NotDifferentiable {
        if (node instanceof SqlLiteral literal && literal.getValue() instanceof BigDecimal n && n.signum() >= 0) {
            return n.longValueExact();
        }
        throw new NotDifferentiable(clause + " " + SqlTrees.sql(node) + " (not a constant) has no delta rule yet");
    }

    @Override
    public Set<Long> relids() {
        return inner.relids();
    }

    @Override
    public Map<Long, RowDecoder> decoders() {
        return inner.decoders();
    }

    private String orderSql(String qualifier) {
        return order.stream().map(k -> k.sql(qualifier)).collect(Collectors.joining(", "));
    }

    private boolean hidesKeys() {
        return order.stream().anyMatch(k -> k.column().startsWith(HIDDEN));
    }

    @Override
    public String currentSql() {
        return "SELECT " + names.stream().map(n -> "__pgt_k." + Identifiers.quote(n)).collect(Collectors.joining(", "))
                + " FROM (" + inner.currentSql() + ") __pgt_k ORDER BY " + orderSql("__pgt_k") + " LIMIT " + limit
                + (offset > 0 ? " OFFSET " + offset : "");
    }

    @Override
    public String delta(DeltaContext ctx) {
        String changed = inner.delta(ctx);
        String target = ctx.target();
        if (changed == null || limit == 0) {
            return null;
        }
        String cols = names().stream().map(Identifiers::quote).collect(Collectors.joining(", "));
        // Lexicographic "strictly after the last stored row", key by key.
        String after = "false";
        for (int i = order.size() - 1; i >= 0; i--) {
            SortKey k = order.get(i);
            after = "(" + k.after("__pgt_d", "__pgt_b") + " OR (" + k.equal("__pgt_d", "__pgt_b") + " AND " + after + "))";
        }
        // The boundary: the last row kept, from the stream table; or, with hidden sort keys it does
        // not store, row m+n of the inner query now (none: fewer rows than that now, recompute).
        String boundary = hidesKeys()
                ? "(SELECT * FROM (" + inner.currentSql() + ") __pgt_s ORDER BY " + orderSql("__pgt_s") + " OFFSET "
                        + (offset + limit - 1) + " LIMIT 1)"
                : "(SELECT * FROM " + target + " __pgt_s ORDER BY " + orderSql("__pgt_s") + " OFFSET " + (limit - 1) + " LIMIT 1)";
        String reaches = "((SELECT count(*) FROM " + target + ") < " + limit
                + (hidesKeys() ? " OR NOT EXISTS " + boundary : "")
                + " OR EXISTS (SELECT 1 FROM (" + changed + ") __pgt_d, " + boundary + " __pgt_b WHERE NOT " + after + "))";
        return "SELECT * FROM (SELECT " + cols + ", 1 AS __pgt_w FROM (" + currentSql() + ") __pgt_n"
                + "\n  UNION ALL SELECT " + cols + ", -1 FROM " + target + ") __pgt_u WHERE " + reaches;
    }

    @Override
    public String strategy() {
        return "top-k (" + orderSql(null) + " LIMIT " + limit + (offset > 0 ? " OFFSET " + offset : "")
                + ")  [recompute the bounded query only when a changed row sorts at or before "
                + (hidesKeys() ? "row " + (offset + limit) + " of the query now" : "the last stored row") + "]\n"
                + inner.strategy();
    }

    @Override
    public String deltaSqlForExplain() {
        ClockFilter clock = ClockPlans.of(inner);
        DeltaContext ctx = DeltaContext.allChanged(relids(), clock == null ? null : ClockMove.symbolic(clock));
        return ctx.setupSql() + ctx.wrap(delta(ctx));
    }
}
