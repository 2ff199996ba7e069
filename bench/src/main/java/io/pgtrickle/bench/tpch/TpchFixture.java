package io.pgtrickle.bench.tpch;

import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.sql.QualifiedName;
import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * The TPC-H objects a benchmark works on: the loaded tables and, per query, a DIFFERENTIAL
 * stream table, a FULL stream table, a materialized view of the same text and, when asked for, an
 * AUTO stream table.
 */
public final class TpchFixture {
    private final PgTrickleEngine engine;
    private final Consumer<String> progress;

    public TpchFixture(PgTrickleEngine engine, Consumer<String> progress) {
        this.engine = engine;
        this.progress = progress;
    }

    /**
     * Loads the tables at {@code scale}, after removing what an interrupted run left; refuses
     * TPC-H tables someone else made. Returns the seconds the load took.
     */
    public double load(Connection c, double scale) throws SQLException, IOException {
        switch (TpchSchema.existing(c)) {
            case FOREIGN -> throw new PgTrickleException(ErrorCode.NAME_TAKEN, "TPC-H tables (lineitem, orders, …) exist"
                    + " in schema public and were not made by this benchmark; run it in a database of its own");
            case OURS -> {
                progress.accept("removing the TPC-H tables of an earlier run");
                List<QuerySetup> leftovers = new ArrayList<>();
                for (int i = 1; i <= TpchQueries.COUNT; i++) {
                    leftovers.add(new QuerySetup(TpchQueries.query(i), true, null, null, 0, true));
                }
                drop(c, leftovers);
            }
            case NONE -> {
            }
        }
        long start = System.nanoTime();
        progress.accept("loading TPC-H at scale factor " + Figures.plain(scale));
        TpchSchema.load(c, scale, progress);
        return (System.nanoTime() - start) / 1e9;
    }

    /**
     * Creates the query's DIFFERENTIAL stream table (when the engine refuses, it records why and
     * the query runs FULL only), its FULL stream table and its materialized view.
     */
    public QuerySetup setUp(Connection c, TpchQuery q) {
        return setUp(c, q, false);
    }

    /**
     * As {@link #setUp(Connection, TpchQuery)}, then, with {@code auto}, the query's AUTO stream
     * table (after the others, so its population does not warm the cache for theirs).
     */
    public QuerySetup setUp(Connection c, TpchQuery q, boolean auto) {
        String sql = q.sql();
        QuerySetup names = new QuerySetup(q, true, null, null, 0, auto);
        long start = System.nanoTime();
        boolean differential = true;
        String reason = null;
        try {
            engine.streamTables().create(StreamTableSpec.parse(names.diffTable(), sql, "calculated", "DIFFERENTIAL"));
        } catch (PgTrickleException e) {
            if (e.code() != ErrorCode.UNSUPPORTED_QUERY) {
                progress.accept(q.label() + ": cannot create its stream table: " + e.getMessage());
                return new QuerySetup(q, false, null, e.getMessage(), Double.NaN, false);
            }
            differential = false;
            reason = e.getMessage().replaceFirst("^.*?maintained differentially: ", "")
                    .replaceFirst("; use refresh mode AUTO or FULL$", "");
        }
        double createMillis = (System.nanoTime() - start) / 1e6;
        try {
            long fullStart = System.nanoTime();
            engine.streamTables().create(StreamTableSpec.parse(names.fullTable(), sql, "calculated", "FULL"));
            if (!differential) {
                createMillis = (System.nanoTime() - fullStart) / 1e6;
            }
            Sql.execute(c, "CREATE MATERIALIZED VIEW " + names.materializedView() + " AS\n" + sql);
        } catch (PgTrickleException | SQLException e) {
            progress.accept(q.label() + ": cannot create its FULL stream table or view: " + e.getMessage());
            return new QuerySetup(q, differential, reason, e.getMessage(), Double.NaN, false);
        }
        if (auto) {
            try {
                engine.streamTables().create(StreamTableSpec.parse(names.autoTable(), sql, "calculated", "AUTO"));
            } catch (PgTrickleException e) {
                progress.accept(q.label() + ": cannot create its AUTO stream table: " + e.getMessage());
                return new QuerySetup(q, differential, reason, "AUTO stream table: " + e.getMessage(), Double.NaN,
                        false);
            }
        }
        QuerySetup setup = new QuerySetup(q, differential, reason, null, createMillis, auto);
        progress.accept(String.format(Locale.ROOT, "%-4s %-12s created in %s ms%s%s", q.label(), setup.mode(),
                Figures.millis(createMillis), auto ? " (and AUTO)" : "", reason == null ? "" : " (" + reason + ")"));
        return setup;
    }

    /**
     * Drops the stream tables (AUTO ones too, made or not: an earlier run may have left them) and
     * views of {@code setups}, then the TPC-H tables.
     */
    public void drop(Connection c, List<QuerySetup> setups) throws SQLException {
        for (QuerySetup s : setups) {
            for (String table : List.of(s.diffTable(), s.fullTable(), s.autoTable())) {
                if (engine.streamTables().find(QualifiedName.parse(table)).isPresent()) {
                    engine.streamTables().drop(QualifiedName.parse(table), false);
                }
            }
            Sql.execute(c, "DROP MATERIALIZED VIEW IF EXISTS " + s.materializedView());
        }
        TpchSchema.drop(c);
    }
}
