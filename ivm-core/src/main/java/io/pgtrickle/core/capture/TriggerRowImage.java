package io.pgtrickle.core.capture;

import io.pgtrickle.core.sql.Identifiers;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The row image a capture trigger writes: {@code to_jsonb(row)}, with the columns of user-defined
 * types (domains, enums, composites, extension types, arrays of them) replaced by their text form.
 *
 * <p>{@code jsonb_populate_record} feeds a JSON string to the column type's input function, so a
 * type's text form always reads back exactly; {@code to_jsonb} instead uses a type's cast to
 * jsonb where one exists (hstore's gives an object, which hstore's input cannot read), and WAL
 * capture writes these types as text too. Domains over json or jsonb keep their JSON value, which
 * populates them as it is.
 */
final class TriggerRowImage {
    /** jsonb_build_object takes at most 100 arguments: 50 pairs per call. */
    private static final int PAIRS_PER_CALL = 50;

    private TriggerRowImage() {
    }

    /** The image expression of transition-table alias {@code alias} for the table {@code relid}. */
    static String expression(Connection c, long relid, String alias) throws SQLException {
        List<String> textColumns = new ArrayList<>();
        // A domain's base type, through domains over domains, decides whether it is JSON.
        try (PreparedStatement ps = c.prepareStatement("WITH RECURSIVE cols(attnum, attname, typ, base) AS ("
                + " SELECT a.attnum, a.attname, t.oid, t.oid FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid"
                + "  WHERE a.attrelid = ?::oid AND a.attnum > 0 AND NOT a.attisdropped"
                + "  AND t.typnamespace <> 'pg_catalog'::regnamespace"
                + " UNION ALL SELECT c.attnum, c.attname, c.typ, b.typbasetype FROM cols c JOIN pg_type b ON b.oid = c.base"
                + "  WHERE b.typtype = 'd')"
                + " SELECT attname FROM cols c JOIN pg_type t ON t.oid = c.base WHERE t.typtype <> 'd'"
                + " AND c.base NOT IN ('json'::regtype, 'jsonb'::regtype) ORDER BY attnum")) {
            ps.setLong(1, relid);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    textColumns.add(rs.getString(1));
                }
            }
        }
        StringBuilder image = new StringBuilder("to_jsonb(" + alias + ")");
        for (int from = 0; from < textColumns.size(); from += PAIRS_PER_CALL) {
            List<String> pairs = new ArrayList<>();
            for (String column : textColumns.subList(from, Math.min(textColumns.size(), from + PAIRS_PER_CALL))) {
                pairs.add("'" + column.replace("'", "''") + "', " + alias + "." + Identifiers.quote(column) + "::text");
            }
            image.append(" || jsonb_build_object(").append(String.join(", ", pairs)).append(")");
        }
        return image.toString();
    }
}
