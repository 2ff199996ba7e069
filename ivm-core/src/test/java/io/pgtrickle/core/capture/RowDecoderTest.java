package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.sql.QualifiedName;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The SQL that reads row images back: unchanged for sources without json columns. */
class RowDecoderTest {
    private static final QualifiedName DOCS = new QualifiedName("public", "Docs");

    @Test
    void aSourceWithoutJsonColumnsDecodesWithTheRecordAlone() {
        RowDecoder decoder = new RowDecoder(DOCS, List.of("id", "v"), List.of());

        assertThat(decoder.from("c.row", "r")).isEqualTo("jsonb_populate_record(NULL::\"public\".\"Docs\", c.row) r");
        assertThat(decoder.selectList("r", "c.row")).isEqualTo("r.*");
    }

    @Test
    void listedJsonColumnsDecodeAsJsonNullAndTheOthersAsTheRecordHasThem() {
        RowDecoder decoder = new RowDecoder(DOCS, List.of("id", "it's", "j"), List.of(
                new RowDecoder.JsonColumn("it's", "pg_catalog.jsonb", true), new RowDecoder.JsonColumn("j", "public.jdoc", true)));

        assertThat(decoder.selectList("r", "c.row")).isEqualTo("r.\"id\","
                + " CASE WHEN (c.row -> '') ? 'it''s' THEN 'null'::pg_catalog.jsonb ELSE r.\"it's\" END AS \"it's\","
                + " CASE WHEN (c.row -> '') ? 'j' THEN 'null'::public.jdoc ELSE r.\"j\" END AS \"j\"");
    }

    @Test
    void jsonNullsOfColumnsAreAddedToTheImagesList() {
        List<RowDecoder.JsonColumn> columns = List.of(new RowDecoder.JsonColumn("g", "pg_catalog.jsonb", true),
                new RowDecoder.JsonColumn("h", "pg_catalog.\"json\"", false));

        assertThat(RowDecoder.withJsonNulls("img", List.of(), "x")).isEqualTo("img");
        assertThat(RowDecoder.withJsonNulls("img", columns, "x")).isEqualTo("CASE WHEN jsonb_typeof(x.\"g\"::jsonb) = 'null'"
                + " OR json_typeof(x.\"h\"::json) = 'null' THEN img || jsonb_build_object('', coalesce(img -> '', '[]'::jsonb)"
                + " || to_jsonb(array_remove(ARRAY[CASE WHEN jsonb_typeof(x.\"g\"::jsonb) = 'null' THEN 'g' END,"
                + " CASE WHEN json_typeof(x.\"h\"::json) = 'null' THEN 'h' END], NULL))) ELSE img END");
    }
}
