package io.pgtrickle.core.query;

/**
 * Whether a defining query can be maintained differentially, and if not, why.
 *
 * @param parsed whether Calcite's parser accepted the query
 * @param differentiable whether delta rules cover every operator of the query
 * @param reason why the query is not differentiable, or {@code null}
 */
public record QueryAnalysis(boolean parsed, boolean differentiable, String reason) {
    public static QueryAnalysis notParsed(String reason) {
        return new QueryAnalysis(false, false, reason);
    }
}
