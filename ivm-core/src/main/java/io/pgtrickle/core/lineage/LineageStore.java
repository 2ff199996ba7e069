package io.pgtrickle.core.lineage;

import io.pgtrickle.core.query.Column;
import io.pgtrickle.core.query.QueryParser;
import io.pgtrickle.core.query.RelationColumns;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.calcite.sql.parser.SqlParseException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Computes and stores {@code pgtrickle.pgt_lineage}, which {@code pgtrickle.stream_table_lineage}
 * returns, whenever a stream table's definition is stored. Lineage is a report, so a query it
 * cannot analyse leaves its output columns without sources instead of failing the create.
 */
public final class LineageStore {
    private static final Logger log = LoggerFactory.getLogger(LineageStore.class);
    private static final String HIDDEN_PREFIX = "__pgt_";
    private static final String RELATION = """
            SELECT c.oid::bigint, n.nspname, c.relname,
                   array(SELECT a.attname::text FROM pg_attribute a
                          WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum)
              FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE c.oid = to_regclass(?)""";

    private final QueryParser parser = new QueryParser();

    /** Replaces the lineage of stream table {@code pgtId} (storage table {@code relid}) defined by {@code query}. */
    public void store(Connection c, long pgtId, long relid, String query) throws SQLException {
        List<String> outputs = RelationColumns.of(c, relid).stream().map(Column::name)
                .filter(n -> !n.startsWith(HIDDEN_PREFIX)).toList();
        List<ColumnLineage.Output> lineage = analyse(c, query);
        Jdbc.update(c, "DELETE FROM pgtrickle.pgt_lineage WHERE pgt_id = ?", pgtId);
        try (PreparedStatement ps = c.prepareStatement("INSERT INTO pgtrickle.pgt_lineage (pgt_id, output_column,"
                + " ordinal, source_relid, source_schema, source_table, source_column) VALUES (?, ?, ?, ?::oid, ?, ?, ?)")) {
            for (int i = 0; i < outputs.size(); i++) {
                Set<SourceColumn> sources = sources(outputs, lineage, i);
                List<SourceColumn> rows = sources.isEmpty() ? Arrays.asList((SourceColumn) null) : new ArrayList<>(sources);
                for (SourceColumn s : rows) {
                    ps.setLong(1, pgtId);
                    ps.setString(2, outputs.get(i));
                    ps.setInt(3, i + 1);
                    ps.setObject(4, s == null ? null : s.relid(), java.sql.Types.BIGINT);
                    ps.setString(5, s == null ? null : s.schema());
                    ps.setString(6, s == null ? null : s.table());
                    ps.setString(7, s == null ? null : s.column());
                    ps.addBatch();
                }
            }
            ps.executeBatch();
        }
    }

    /**
     * The sources of output {@code i}. The storage table's columns are the query's outputs in
     * order, so they pair by position; when the analysis found a different number (a {@code *}
     * over something whose columns it could not list), by name, so nothing is misattributed.
     */
    private static Set<SourceColumn> sources(List<String> outputs, List<ColumnLineage.Output> lineage, int i) {
        if (lineage.size() == outputs.size()) {
            return lineage.get(i).sources();
        }
        List<ColumnLineage.Output> named = lineage.stream().filter(o -> o.name().equals(outputs.get(i))).toList();
        return named.size() == 1 ? named.get(0).sources() : Set.of();
    }

    private List<ColumnLineage.Output> analyse(Connection c, String query) {
        try {
            return new ColumnLineage(names -> relation(c, names)).outputs(parser.parse(query));
        } catch (SqlParseException | RuntimeException e) {
            log.debug("no column lineage for {}: {}", query, e.toString());
            return List.of();
        }
    }

    private static Optional<Relation> relation(Connection c, List<String> names) {
        if (names.isEmpty() || names.size() > 2) {
            return Optional.empty();
        }
        String quoted = names.stream().map(Identifiers::quote).collect(Collectors.joining("."));
        try (PreparedStatement ps = Jdbc.prepare(c, RELATION, quoted); ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) {
                return Optional.empty();
            }
            Array columns = rs.getArray(4);
            List<String> visible = Arrays.stream((String[]) columns.getArray())
                    .filter(n -> !n.startsWith(HIDDEN_PREFIX)).toList();
            return Optional.of(new Relation(rs.getLong(1), rs.getString(2), rs.getString(3), visible));
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
