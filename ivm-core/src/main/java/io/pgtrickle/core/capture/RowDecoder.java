package io.pgtrickle.core.capture;

import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Reads buffered row images back into their source's row type, as SQL.
 *
 * <p>A row image is a jsonb object, decoded by {@code jsonb_populate_record(NULL::source, row)},
 * which reads {@code "col": null} as SQL NULL. For a json or jsonb column (or a domain over one)
 * that is ambiguous: the column may hold SQL NULL or the JSON value {@code null}. Both capture
 * modes therefore write, only in a row holding JSON {@code null} in such a column, the key
 * {@value #JSON_NULLS_KEY} (the empty string: no column can have that name) with the names of
 * those columns; their decoded value is then {@code 'null'} instead of SQL NULL. Every other
 * image, including those buffered before the key existed, decodes exactly as before, and a source
 * without json columns decodes with {@code record.*} alone. Arrays of json or jsonb are written
 * in their text form, which keeps NULL and {@code null} elements apart by itself.
 *
 * @param source the source relation, whose row type the images decode to
 * @param columns the source's column names, in order
 * @param jsonColumns the columns of type json or jsonb (or a domain over one), in order
 */
public record RowDecoder(QualifiedName source, List<String> columns, List<JsonColumn> jsonColumns) {
    /** The image key listing the json columns that hold JSON {@code null}. */
    public static final String JSON_NULLS_KEY = "";

    /**
     * A json-typed column.
     *
     * @param name its name
     * @param type its type, schema-qualified, ready for SQL (a domain's own name)
     * @param binary whether its base type is jsonb rather than json
     */
    public record JsonColumn(String name, String type, boolean binary) {
        /** Whether the value of this column in row {@code qualifier} is JSON {@code null}: an SQL condition. */
        String holdsJsonNull(String qualifier) {
            String value = qualifier + "." + Identifiers.quote(name);
            return binary ? "jsonb_typeof(" + value + "::jsonb) = 'null'" : "json_typeof(" + value + "::json) = 'null'";
        }
    }

    public RowDecoder {
        columns = List.copyOf(columns);
        jsonColumns = List.copyOf(jsonColumns);
    }

    /** The decoder of relation {@code relid} as the catalog describes it now. */
    public static RowDecoder load(Connection c, long relid, QualifiedName source) throws SQLException {
        List<String> columns = new ArrayList<>();
        List<JsonColumn> json = new ArrayList<>();
        try (PreparedStatement ps = Jdbc.prepare(c, COLUMNS_SQL, relid); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                columns.add(rs.getString(1));
                if (rs.getString(3) != null) {
                    json.add(new JsonColumn(rs.getString(1), rs.getString(2), rs.getString(3).equals("jsonb")));
                }
            }
        }
        return new RowDecoder(source, columns, json);
    }

    /**
     * Each column, its type (qualified), and for a json-typed one (json, jsonb, or a domain over
     * one of them, through domains over domains) its base type, {@code json} or {@code jsonb}.
     */
    private static final String COLUMNS_SQL = """
            WITH RECURSIVE cols(attnum, attname, own, base) AS (
                SELECT a.attnum, a.attname, a.atttypid, a.atttypid FROM pg_attribute a
                 WHERE a.attrelid = ?::oid AND a.attnum > 0 AND NOT a.attisdropped
                UNION ALL
                SELECT c.attnum, c.attname, c.own, t.typbasetype FROM cols c JOIN pg_type t ON t.oid = c.base
                 WHERE t.typtype = 'd')
            SELECT c.attname, quote_ident(n.nspname) || '.' || quote_ident(o.typname),
                   CASE WHEN c.base IN ('json'::regtype, 'jsonb'::regtype) THEN b.typname::text END
              FROM cols c JOIN pg_type b ON b.oid = c.base JOIN pg_type o ON o.oid = c.own
              JOIN pg_namespace n ON n.oid = o.typnamespace
             WHERE b.typtype <> 'd' ORDER BY c.attnum""";

    /** The FROM item decoding {@code image} (an SQL expression) as a row of the source, named {@code alias}. */
    public String from(String image, String alias) {
        return "jsonb_populate_record(NULL::" + source.quoted() + ", " + image + ") " + alias;
    }

    /**
     * The decoded row's columns, in the source's order and with its names and types: {@code alias}
     * is the {@link #from} item of the same {@code image}.
     */
    public String selectList(String alias, String image) {
        if (jsonColumns.isEmpty()) {
            return alias + ".*";
        }
        return columns.stream().map(name -> jsonColumns.stream().filter(j -> j.name().equals(name)).findFirst()
                        .map(j -> "CASE WHEN (" + image + " -> " + literal(JSON_NULLS_KEY) + ") ? " + literal(name)
                                + " THEN 'null'::" + j.type() + " ELSE " + alias + "." + Identifiers.quote(name) + " END AS "
                                + Identifiers.quote(name))
                        .orElse(alias + "." + Identifiers.quote(name)))
                .collect(Collectors.joining(", "));
    }

    /**
     * An expression that adds the json columns of {@code columns} holding JSON {@code null} (in the
     * row {@code qualifier}) to the JSON-null list of image {@code image}: the image unchanged
     * when none does.
     */
    static String withJsonNulls(String image, List<JsonColumn> columns, String qualifier) {
        if (columns.isEmpty()) {
            return image;
        }
        List<String> tests = columns.stream().map(j -> j.holdsJsonNull(qualifier)).toList();
        String names = "to_jsonb(array_remove(ARRAY[" + java.util.stream.IntStream.range(0, columns.size())
                .mapToObj(i -> "CASE WHEN " + tests.get(i) + " THEN " + literal(columns.get(i).name()) + " END")
                .collect(Collectors.joining(", ")) + "], NULL))";
        String key = literal(JSON_NULLS_KEY);
        return "CASE WHEN " + String.join(" OR ", tests) + " THEN " + image + " || jsonb_build_object(" + key
                + ", coalesce(" + image + " -> " + key + ", '[]'::jsonb) || " + names + ") ELSE " + image + " END";
    }

    private static String literal(String text) {
        return "'" + text.replace("'", "''") + "'";
    }
}
