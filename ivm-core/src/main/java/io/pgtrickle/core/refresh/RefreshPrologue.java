package io.pgtrickle.core.refresh;

import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.capture.ChangeSource;
import io.pgtrickle.core.catalog.Catalog;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.query.Column;
import io.pgtrickle.core.query.RelationColumns;
import io.pgtrickle.core.query.SourceRelation;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * What a refresh reads before it does anything, in one round trip: the statements go to the
 * server together, the first of them fixing the transaction's isolation, the second its snapshot
 * S and WAL position L (DESIGN §2.4, step 1), the others reading the catalog in that snapshot.
 * Reading them one by one cost a round trip each, which is most of a refresh with little to do.
 *
 * @param snapshot S
 * @param walLsn L
 * @param outbox whether the stream table has an outbox
 * @param redefinitionPending whether a view or function it reads was redefined and the engine has
 *     not re-planned it yet
 * @param streamTable the catalog row, or {@code null} when the stream table no longer exists
 * @param dependencies its sources, ordered by name
 * @param tracked the change sources among them, in the same order
 * @param columns the user-visible columns of its storage table
 * @param fingerprint the catalog state its plan is cached under
 */
record RefreshPrologue(String snapshot, String walLsn, boolean outbox, boolean redefinitionPending,
                       StreamTableRecord streamTable, List<SourceRelation> dependencies, List<ChangeSource> tracked,
                       List<Column> columns, PlanCache.Fingerprint fingerprint) {

    /** Run as the first statements of the refresh transaction {@code tx} (autocommit off, nothing run yet). */
    static RefreshPrologue read(Connection tx, long id) throws SQLException {
        return read(tx, id, true);
    }

    /**
     * @param first whether this opens the refresh transaction (sets its isolation, takes its
     *     snapshot); false for the next stream table of a group refreshed in the same transaction
     */
    static RefreshPrologue read(Connection tx, long id, boolean first) throws SQLException {
        String sql = String.join(";\n",
                first ? "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ" : "SET LOCAL pgtrickle.refresh_group = 'on'",
                // The first query takes the snapshot.
                """
                SELECT pg_current_snapshot()::text, pg_current_wal_insert_lsn()::text,
                       EXISTS (SELECT 1 FROM pgtrickle.pgt_outbox_config WHERE pgt_id = ?),
                       EXISTS (SELECT 1 FROM pgtrickle.pgt_source_events e
                                WHERE NOT e.handled
                                  AND e.command IN ('CREATE VIEW', 'ALTER VIEW', 'ALTER TABLE', 'CREATE FUNCTION',
                                                    'ALTER FUNCTION')
                                  AND (e.source_relid IN (SELECT d.source_relid FROM pgtrickle.pgt_dependencies d
                                                           WHERE d.pgt_id = ? AND d.source_kind = 'VIEW')
                                       OR e.source_relid IN (SELECT f.function_oid FROM pgtrickle.pgt_function_dependencies f
                                                              WHERE f.pgt_id = ?)))""",
                Catalog.SELECT_BY_ID,
                """
                SELECT d.source_relid::bigint, d.source_schema, d.source_name, d.source_kind,
                       cs.source_schema, cs.source_name, cs.cdc_mode, cs.buffer_table
                  FROM pgtrickle.pgt_dependencies d
                  LEFT JOIN pgtrickle.pgt_change_sources cs ON cs.source_relid = d.source_relid
                 WHERE d.pgt_id = ? ORDER BY 2, 3""",
                RelationColumns.sql("(SELECT st.pgt_relid FROM pgtrickle.pgt_stream_tables st WHERE st.pgt_id = ?)"),
                PlanCache.FINGERPRINT);
        try (PreparedStatement ps = Jdbc.prepare(tx, sql, id, id, id, id, id, id, id, id)) {
            boolean isResult = ps.execute();
            int index = 0;
            String snapshot = null;
            String walLsn = null;
            boolean outbox = false;
            boolean redefinition = false;
            StreamTableRecord st = null;
            List<SourceRelation> dependencies = new ArrayList<>();
            List<ChangeSource> tracked = new ArrayList<>();
            List<Column> columns = List.of();
            PlanCache.Fingerprint fingerprint = null;
            while (isResult || ps.getUpdateCount() != -1) {
                if (isResult) {
                    try (ResultSet rs = ps.getResultSet()) {
                        switch (index++) {
                            case 0 -> {
                                rs.next();
                                snapshot = rs.getString(1);
                                walLsn = rs.getString(2);
                                outbox = rs.getBoolean(3);
                                redefinition = rs.getBoolean(4);
                            }
                            case 1 -> st = rs.next() ? Catalog.record(rs) : null;
                            case 2 -> {
                                while (rs.next()) {
                                    long relid = rs.getLong(1);
                                    dependencies.add(new SourceRelation(relid, new QualifiedName(rs.getString(2),
                                            rs.getString(3)), SourceRelation.Kind.valueOf(rs.getString(4))));
                                    if (rs.getString(8) != null) {
                                        tracked.add(new ChangeSource(relid, new QualifiedName(rs.getString(5),
                                                rs.getString(6)), CdcMode.valueOf(rs.getString(7)), rs.getString(8)));
                                    }
                                }
                            }
                            case 3 -> columns = RelationColumns.read(rs).stream()
                                    .filter(col -> !col.name().startsWith("__pgt_")).toList();
                            case 4 -> {
                                rs.next();
                                fingerprint = PlanCache.fingerprint(rs);
                            }
                            default -> throw new IllegalStateException("unexpected result " + index + " of the refresh prologue");
                        }
                    }
                }
                isResult = ps.getMoreResults();
            }
            if (index != 5) {
                throw new IllegalStateException("the refresh prologue returned " + index + " results, not 5");
            }
            return new RefreshPrologue(snapshot, walLsn, outbox, redefinition, st, List.copyOf(dependencies),
                    List.copyOf(tracked), columns, fingerprint);
        }
    }
}
