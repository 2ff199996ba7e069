package io.pgtrickle.bench.tpch;

/**
 * How one query is maintained in a run.
 *
 * @param query the query
 * @param differential whether its DIFFERENTIAL stream table exists; false when the engine refused the query
 * @param fullOnlyReason why the engine refused DIFFERENTIAL, or {@code null}
 * @param setupError why the query could not be set up at all (it is then skipped), or {@code null}
 * @param createMillis time to create and populate the DIFFERENTIAL (else the FULL) stream table
 * @param auto whether its AUTO stream table exists (not with {@code --no-auto}, nor in {@code bench idle})
 */
public record QuerySetup(TpchQuery query, boolean differential, String fullOnlyReason, String setupError,
                         double createMillis, boolean auto) {
    public boolean usable() {
        return setupError == null;
    }

    /** The DIFFERENTIAL stream table. */
    public String diffTable() {
        return "tpch_" + query.id() + "_diff";
    }

    /** The FULL stream table. */
    public String fullTable() {
        return "tpch_" + query.id() + "_full";
    }

    /** The AUTO stream table: the engine picks DIFFERENTIAL or FULL per refresh from measured costs. */
    public String autoTable() {
        return "tpch_" + query.id() + "_auto";
    }

    /** The materialized view of the same query. */
    public String materializedView() {
        return "tpch_" + query.id() + "_mv";
    }

    /** DIFFERENTIAL, or "FULL only". */
    public String mode() {
        return !usable() ? "failed" : differential ? "DIFFERENTIAL" : "FULL only";
    }
}
