package io.pgtrickle.connect.source;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

/** What the pgtrickle catalog says of stream tables and their outboxes. */
final class Catalog {
    private static final String SELECT = "SELECT s.pgt_schema, s.pgt_name, c.pgt_id IS NOT NULL"
            + " FROM pgtrickle.pgt_stream_tables s LEFT JOIN pgtrickle.pgt_outbox_config c ON c.pgt_id = s.pgt_id";

    private Catalog() {
    }

    /** Every stream table, by {@link StreamTable#id()}. */
    static List<StreamTable> all(Connection c) throws SQLException {
        List<StreamTable> tables = new ArrayList<>();
        try (PreparedStatement ps = c.prepareStatement(SELECT + " ORDER BY 1, 2"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                tables.add(new StreamTable(rs.getString(1), rs.getString(2), rs.getBoolean(3)));
            }
        }
        return tables;
    }

    /**
     * The stream table {@code name} ({@code name} or {@code schema.name}, parsed as PostgreSQL parses
     * identifiers), or empty when there is none.
     */
    static Optional<StreamTable> find(Connection c, String name) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(SELECT
                + " WHERE quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name) = pgtrickle._canonical_name(?)")) {
            ps.setString(1, name);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? Optional.of(new StreamTable(rs.getString(1), rs.getString(2), rs.getBoolean(3)))
                        : Optional.empty();
            }
        }
    }

    /**
     * The stream tables a config selects: the listed ones (each must exist and have an outbox) or
     * those with an outbox whose {@code schema.name} matches the pattern; sorted.
     *
     * @throws IllegalStateException naming a listed stream table that is missing or has no outbox
     */
    static List<StreamTable> selected(Connection c, PgTrickleSourceConfig config) throws SQLException {
        Pattern pattern = config.streamTablesPattern();
        List<StreamTable> selected = new ArrayList<>();
        if (pattern != null) {
            for (StreamTable t : all(c)) {
                if (t.hasOutbox() && pattern.matcher(t.id()).matches()) {
                    selected.add(t);
                }
            }
            return selected;
        }
        for (String name : config.streamTables()) {
            StreamTable t = find(c, name).orElseThrow(() -> new IllegalStateException(missing(name)));
            if (!t.hasOutbox()) {
                throw new IllegalStateException(noOutbox(t));
            }
            if (!selected.contains(t)) {
                selected.add(t);
            }
        }
        selected.sort(null);
        return selected;
    }

    static String missing(String name) {
        return "there is no stream table " + name + "; create it (pgtrickle.create_stream_table) or correct "
                + PgTrickleSourceConfig.STREAM_TABLES;
    }

    static String noOutbox(StreamTable t) {
        return "stream table " + t.id() + " has no outbox; enable it: SELECT pgtrickle.enable_outbox('" + t.sqlName()
                .replace("'", "''") + "')";
    }
}
