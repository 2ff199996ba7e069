package io.pgtrickle.core.publication;

import io.pgtrickle.core.error.SqlErrors;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Stream tables as standard logical-replication publications ({@code pgt_pub_<name>}), over the SQL
 * functions {@code stream_table_to_publication} and {@code drop_stream_table_publication}
 * (V17__inbox.sql). Anything that speaks logical replication can then subscribe to a stream table's
 * changes: a PostgreSQL subscriber, Debezium, a pgoutput client.
 *
 * <p>The static methods are the hooks of the engine's lifecycle that keep a publication working:
 * the storage table's drop drops it, and its column list follows the storage table's columns and
 * replica identity (PostgreSQL refuses UPDATE and DELETE of a table whose publication's column
 * list misses the replica identity, and allows no column list with REPLICA IDENTITY FULL).
 */
public final class StreamTablePublications {
    private final DataSource dataSource;

    public StreamTablePublications(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** Creates the publication of {@code streamTable}; fails when it has one already. */
    public Publication publish(String streamTable) {
        return call("cannot publish stream table " + streamTable, c -> {
            Jdbc.queryValue(c, String.class, "SELECT pgtrickle.stream_table_to_publication(?)", streamTable);
            return find(c, streamTable).orElseThrow();
        });
    }

    /** Drops the publication of {@code streamTable}; false when {@code ifExists} and it had none. */
    public boolean unpublish(String streamTable, boolean ifExists) {
        return call("cannot drop the publication of stream table " + streamTable, c -> {
            boolean had = find(c, streamTable).isPresent();
            Jdbc.call(c, "SELECT pgtrickle.drop_stream_table_publication(?, ?)", streamTable, ifExists);
            return had;
        });
    }

    public Optional<Publication> find(String streamTable) {
        return call("cannot read the publication of stream table " + streamTable, c -> find(c, streamTable));
    }

    public List<Publication> list() {
        return call("cannot list the stream table publications", c -> query(c, "TRUE", null));
    }

    private static Optional<Publication> find(Connection c, String streamTable) throws SQLException {
        return query(c, "quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) = pgtrickle._canonical_name(?)",
                streamTable).stream().findFirst();
    }

    private static List<Publication> query(Connection c, String condition, String parameter) throws SQLException {
        List<Publication> found = new ArrayList<>();
        String sql = "SELECT quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name), p.publication_name,"
                + " (SELECT t.attnames FROM pg_publication_tables t WHERE t.pubname = p.publication_name)"
                + " FROM pgtrickle.pgt_stream_table_publications p JOIN pgtrickle.pgt_stream_tables s USING (pgt_id)"
                + " WHERE " + condition + " ORDER BY 2";
        try (PreparedStatement ps = parameter == null ? Jdbc.prepare(c, sql) : Jdbc.prepare(c, sql, parameter);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Array columns = rs.getArray(3);
                found.add(new Publication(rs.getString(1), rs.getString(2),
                        columns == null ? List.of() : Arrays.asList((String[]) columns.getArray())));
            }
        }
        return found;
    }

    /** Drop path: drops the publication of the stream table {@code pgtId} before its storage table goes. */
    public static void dropWith(Connection c, long pgtId) throws SQLException {
        Jdbc.call(c, "SELECT pgtrickle._drop_publication_of(?)", pgtId);
    }

    /**
     * Before the storage table's columns change: its publication lists no columns for the rest of
     * the transaction (PostgreSQL refuses to drop a column a column list names).
     */
    public static void releaseColumns(Connection c, QualifiedName table) throws SQLException {
        Jdbc.call(c, "SELECT pgtrickle._sync_publication_columns(coalesce(to_regclass(?)::oid, 0), true)", table.quoted());
    }

    /** After the storage table's columns changed: its publication lists the columns it has now. */
    public static void syncColumns(Connection c, QualifiedName table) throws SQLException {
        Jdbc.call(c, "SELECT pgtrickle._sync_publication_columns(coalesce(to_regclass(?)::oid, 0))", table.quoted());
    }

    /** After tracking new sources, which may have set REPLICA IDENTITY FULL on published stream tables. */
    public static void syncAllColumns(Connection c) throws SQLException {
        Jdbc.call(c, "SELECT pgtrickle._sync_publication_columns()");
    }

    private <T> T call(String context, Jdbc.Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw SqlErrors.translateCall(context, e);
        }
    }
}
