package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.testing.TestDatabase;

/**
 * The capture invariant for a source tracked from empty: the net of its buffered Z-set rows whose
 * transactions a snapshot sees equals the source's contents at that snapshot; no row's net count is
 * negative. The contents at a stream table's frontier are the stream table itself (a FULL refresh of
 * {@code SELECT * FROM source} at that snapshot).
 */
final class ZSetInvariant {
    private ZSetInvariant() {
    }

    /**
     * @param source the source table (its row type decodes the buffer)
     * @param streamTable a stream table defined as {@code SELECT * FROM source}
     */
    static void check(TestDatabase db, String source, String streamTable) {
        String buffer = "pgtrickle_changes.changes_" + db.value("SELECT '" + source + "'::regclass::oid::bigint");
        String frontier = "(SELECT frontier FROM pgtrickle.pgt_stream_tables WHERE pgt_name = '" + streamTable + "')";
        String net = "SELECT row AS __pgt_row, sum(weight) AS __pgt_n FROM " + buffer
                + " WHERE weight <> 0 AND pg_visible_in_snapshot(xid, " + frontier + ") GROUP BY row";
        assertThat(db.rows(net + " HAVING sum(weight) < 0")).as("negative net counts in " + buffer).isEmpty();
        String columns = String.join(", ", db.rows("SELECT quote_ident(attname) FROM pg_attribute WHERE attrelid = '"
                + source + "'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum").stream()
                .map(r -> (String) r.get(0)).toList());
        String qualified = String.join(", ", java.util.Arrays.stream(columns.split(", ")).map(c -> "r." + c).toList());
        String buffered = "SELECT " + qualified + " FROM (" + net + ") z, generate_series(1, z.__pgt_n) g,"
                + " LATERAL jsonb_populate_record(NULL::" + source + ", z.__pgt_row) r";
        assertThat(db.multisetDifference("SELECT " + columns + " FROM " + streamTable, buffered))
                .as("stream table %s vs net buffered changes of %s at its frontier", streamTable, source).isEmpty();
    }
}
