package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.junit.jupiter.api.Test;

/** Row images hold each value in a form the column type's input function reads. */
class RowImagesTest {
    private static Schema typed(SchemaBuilder builder, String sourceType) {
        return builder.optional().parameter(RowImages.SOURCE_TYPE, sourceType).build();
    }

    @Test
    void bytesOfATypeDebeziumDoesNotKnowAreItsTextAndOnlyByteaBytesAreHex() {
        Schema row = SchemaBuilder.struct()
                .field("c", typed(SchemaBuilder.bytes(), "PAIR"))
                .field("b", typed(SchemaBuilder.bytes(), "BYTEA"))
                .field("ba", typed(SchemaBuilder.array(Schema.OPTIONAL_BYTES_SCHEMA), "_BYTEA"))
                .build();
        Struct image = new Struct(row).put("c", "(1,\"a b\")".getBytes(StandardCharsets.UTF_8))
                .put("b", new byte[] {0x31, (byte) 0xff}).put("ba", List.of(new byte[] {0x0a}));

        assertThat(RowImages.toJson(image, null)).isEqualTo("{\"c\":\"(1,\\\"a b\\\")\",\"b\":\"\\\\x31ff\",\"ba\":[\"\\\\x0a\"]}");
    }

    @Test
    void jsonNullValuesAreListedSoThatTheyStayApartFromSqlNull() {
        Schema json = SchemaBuilder.string().name("io.debezium.data.Json").parameter(RowImages.SOURCE_TYPE, "JSONB").optional().build();
        Schema row = SchemaBuilder.struct().field("a", json).field("b", json).field("c", json).field("d", json).build();
        Struct image = new Struct(row).put("a", "null").put("b", null).put("c", "{\"x\": null}").put("d", " null ");

        assertThat(RowImages.toJson(image, null))
                .isEqualTo("{\"a\":null,\"b\":null,\"c\":{\"x\":null},\"d\":null,\"\":[\"a\",\"d\"]}");
        Struct none = new Struct(row).put("a", "{}").put("c", "[null]");
        assertThat(RowImages.toJson(none, null)).as("no key without a JSON null at the top")
                .isEqualTo("{\"a\":{},\"b\":null,\"c\":[null],\"d\":null}");
    }

    @Test
    void hstoreIsWrittenInItsOwnTextFormWithQuotesAndNulls() {
        assertThat(RowImages.hstoreText("{\"a\":\"1\",\"c d\":null,\"q\\\"\":\"x\\\\y\"}"))
                .isEqualTo("\"a\"=>\"1\", \"c d\"=>NULL, \"q\\\"\"=>\"x\\\\y\"");
        assertThat(RowImages.hstoreText(Map.of())).isEmpty();
    }

    @Test
    void aBitStringKeepsItsDeclaredLengthAndLeadingZeros() {
        Schema bits = SchemaBuilder.bytes().name("io.debezium.data.Bits").parameter("length", "13")
                .parameter(RowImages.SOURCE_TYPE, "BIT").optional().build();
        Schema row = SchemaBuilder.struct().field("bt", bits).build();
        // B'0000000000101' is 5: Debezium's bytes are little-endian.
        Struct image = new Struct(row).put("bt", new byte[] {0x05, 0x00});

        assertThat(RowImages.toJson(image, null)).isEqualTo("{\"bt\":\"0000000000101\"}");
    }

    @Test
    void timestampsPastTheNanosecondRangeAndInfinitiesKeepTheirValue() {
        // A count of nanoseconds in a long ends in 2262; microseconds of year 3000 must not overflow.
        assertThat(RowImages.localDateTime(32_503_680_000_000_000L, 1_000L)).isEqualTo("3000-01-01T00:00");
        assertThat(RowImages.localDateTime(-1L, 1_000_000L)).isEqualTo("1969-12-31T23:59:59.999");
        assertThat(RowImages.localDateTime(org.postgresql.PGStatement.DATE_POSITIVE_INFINITY, 1_000L)).isEqualTo("infinity");
        assertThat(RowImages.localDateTime(org.postgresql.PGStatement.DATE_NEGATIVE_INFINITY, 1_000L)).isEqualTo("-infinity");
    }
}
