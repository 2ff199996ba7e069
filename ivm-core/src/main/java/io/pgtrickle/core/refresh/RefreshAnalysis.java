package io.pgtrickle.core.refresh;

import io.pgtrickle.core.sql.QualifiedName;
import java.util.List;
import java.util.Locale;

/**
 * What the next refresh of a stream table would do, measured by running it in a transaction that
 * is rolled back: the kind of refresh, the pending change window, the time per phase and every
 * statement with its {@code EXPLAIN (ANALYZE, BUFFERS)}.
 *
 * @param action DIFFERENTIAL or FULL, or {@code null} when there was nothing to analyze
 * @param note why the refresh is FULL, or that nothing is pending; {@code null} for a plain differential refresh
 * @param windowRows the pending changes per source ({@code name: rows}), empty when the refresh reads none
 * @param phasesMs the time of each phase, as JSON milliseconds (as in the refresh history)
 * @param statements the statements of the refresh's apply and bookkeeping phases, in order
 */
public record RefreshAnalysis(QualifiedName name, String action, String note, List<String> windowRows,
                              String phasesMs, List<Statement> statements) {
    /** What an empty window reports: there is no delta to explain. */
    public static final String NOTHING_PENDING = "no pending changes: nothing to analyze; change a source and retry";

    public RefreshAnalysis {
        windowRows = List.copyOf(windowRows);
        statements = List.copyOf(statements);
    }

    /**
     * One statement of the refresh.
     *
     * @param plan its EXPLAIN ANALYZE output, {@code null} for statements EXPLAIN does not take (COPY, ANALYZE, DROP)
     * @param millis its own run, after the explained one
     */
    public record Statement(String sql, String plan, double millis) {
    }

    /** Whether the window held no change, so nothing was run. */
    public boolean nothingPending() {
        return action == null;
    }

    /** A human-readable rendering, as {@code pgtrickle explain --analyze} prints it. */
    public String render() {
        StringBuilder s = new StringBuilder();
        s.append("explain analyze  ").append(name)
                .append(" (in a transaction rolled back: stream table, frontier and change buffers unchanged)\n");
        if (nothingPending()) {
            return s.append(note).append('\n').toString();
        }
        s.append("refresh          ").append(action).append('\n');
        if (note != null) {
            s.append("why              ").append(note).append('\n');
        }
        if (!windowRows.isEmpty()) {
            s.append("pending changes  ").append(String.join(", ", windowRows)).append('\n');
        }
        s.append("phases (ms)      ").append(phasesMs).append('\n');
        s.append("statements (each ran under EXPLAIN ANALYZE, rolled back to a savepoint, then for real: the time is"
                + " the real run's)\n");
        for (int i = 0; i < statements.size(); i++) {
            Statement st = statements.get(i);
            s.append(String.format(Locale.ROOT, "%d. %.3f ms%n", i + 1, st.millis()));
            s.append(st.sql().strip().indent(4));
            if (st.plan() != null) {
                s.append("  plan\n").append(st.plan().indent(4));
            }
        }
        return s.toString();
    }
}
