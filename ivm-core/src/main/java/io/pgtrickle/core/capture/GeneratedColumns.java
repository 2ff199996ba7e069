package io.pgtrickle.core.capture;

import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Completes row images that lack a source's stored generated columns. Before PostgreSQL 18,
 * pgoutput never sends generated columns (18 sends them once the publication sets
 * {@code publish_generated_columns}), so a WAL-captured row would read back with NULL there and
 * every stream table over such a column would be wrong. The stored value is a function of the
 * row's other columns (generation expressions are immutable and see only their own row), so it is
 * recomputed from the complete image REPLICA IDENTITY FULL gives. Trigger rows ({@code to_jsonb}
 * of the written row) and PostgreSQL 18's WAL rows carry the values and are left alone.
 */
final class GeneratedColumns {
    private GeneratedColumns() {
    }

    /**
     * Adds the missing generated values of {@code source} to the rows of window table {@code temp},
     * whose images {@code decoder} reads.
     */
    static void complete(Connection tx, ChangeSource source, String temp, RowDecoder decoder) throws SQLException {
        List<String[]> generated = new ArrayList<>();
        try (PreparedStatement ps = Jdbc.prepare(tx, "SELECT a.attname, pg_get_expr(d.adbin, d.adrelid)"
                + " FROM pg_attribute a JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
                + " WHERE a.attrelid = ?::oid AND a.attgenerated = 's' AND NOT a.attisdropped ORDER BY a.attnum",
                source.relid()); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                generated.add(new String[] {rs.getString(1), rs.getString(2)});
            }
        }
        if (generated.isEmpty()) {
            return;
        }
        // The expressions name their row's columns unqualified: evaluate them, in one pass, over the
        // decoded image (JSON nulls included). Names and expressions come from the catalog; names
        // are quoted as literal keys. A json-typed generated column holding JSON null is listed
        // as such, as capture lists the others.
        List<String> values = new ArrayList<>();
        List<String> pairs = new ArrayList<>();
        for (String[] column : generated) {
            values.add(column[1] + " AS " + Identifiers.quote(column[0]));
            pairs.add("'" + column[0].replace("'", "''") + "', __pgt_g." + Identifiers.quote(column[0]));
        }
        List<RowDecoder.JsonColumn> json = decoder.jsonColumns().stream()
                .filter(j -> generated.stream().anyMatch(g -> g[0].equals(j.name()))).toList();
        String completed = "(__pgt_w.row || jsonb_build_object(" + String.join(", ", pairs) + "))";
        Jdbc.executeRaw(tx, "UPDATE " + Identifiers.quote(temp) + " AS __pgt_w SET row = (SELECT "
                + RowDecoder.withJsonNulls(completed, json, "__pgt_g") + " FROM (SELECT " + String.join(", ", values)
                + " FROM (SELECT " + decoder.selectList("__pgt_r", "__pgt_w.row") + " FROM " + decoder.from("__pgt_w.row", "__pgt_r")
                + ") AS __pgt_image) AS __pgt_g) WHERE __pgt_w.weight <> 0");
    }
}
