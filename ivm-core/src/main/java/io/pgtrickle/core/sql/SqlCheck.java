package io.pgtrickle.core.sql;

import java.util.List;

/**
 * A boolean SQL expression with its bound parameters, for a caller that evaluates several in one
 * statement (one round trip) instead of one statement each.
 */
public record SqlCheck(String sql, List<Object> parameters) {
    public SqlCheck {
        parameters = java.util.Collections.unmodifiableList(new java.util.ArrayList<>(parameters));
    }

    public static SqlCheck of(String sql, Object... parameters) {
        return new SqlCheck(sql, java.util.Arrays.asList(parameters));
    }
}
