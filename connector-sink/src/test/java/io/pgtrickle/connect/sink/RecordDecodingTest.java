package io.pgtrickle.connect.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.format.InboxDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.sink.SinkRecord;
import org.junit.jupiter.api.Test;

class RecordDecodingTest {
    private static SinkRecord record(Object value, ConnectHeaders headers) {
        return new SinkRecord("orders", 2, Schema.STRING_SCHEMA, "k-1", null, value, 41L, 0L,
                TimestampType.CREATE_TIME, headers);
    }

    @Test
    void bytesStayAsSentAndCoordinatesNameTheRecord() {
        ConnectHeaders h = new ConnectHeaders();
        h.addString("id", "e-1");
        h.addBytes("raw", "r".getBytes(StandardCharsets.UTF_8));
        h.addInt("n", 7);
        h.addString("empty", null);
        InboxDecoder.Message m = RecordDecoding.message(record("{\"a\": 1}".getBytes(StandardCharsets.UTF_8), h));
        assertThat(m.source()).isEqualTo("orders");
        assertThat(m.coordinates()).isEqualTo("kafka:orders/2/41");
        assertThat(m.headers()).isEqualTo(Map.of("id", "e-1", "raw", "r", "n", "7"));
        assertThat(new String(m.value(), StandardCharsets.UTF_8)).isEqualTo("{\"a\": 1}");
    }

    @Test
    void theOriginalTopicCountsAfterATransformRenamedIt() {
        SinkRecord renamed = record("{}", new ConnectHeaders()).newRecord("renamed", 0, null, null, null, "{}", 0L);
        assertThat(RecordDecoding.coordinates(renamed)).isEqualTo("kafka:orders/2/41");
        assertThat(RecordDecoding.describe(renamed)).isEqualTo("topic orders partition 2 offset 41");
    }

    @Test
    void convertedValuesAreWrittenAsJson() {
        Schema schema = SchemaBuilder.struct().field("id", Schema.STRING_SCHEMA)
                .field("n", Schema.INT32_SCHEMA).field("tags", SchemaBuilder.array(Schema.STRING_SCHEMA).build()).build();
        Struct s = new Struct(schema).put("id", "e-2").put("n", 3).put("tags", List.of("a", "b"));
        assertThat(text(record(s, new ConnectHeaders()))).isEqualTo("{\"id\":\"e-2\",\"n\":3,\"tags\":[\"a\",\"b\"]}");
        assertThat(text(record(Map.of("x", Map.of("y", true)), new ConnectHeaders()))).isEqualTo("{\"x\":{\"y\":true}}");
        assertThat(text(record("plain text", new ConnectHeaders()))).isEqualTo("plain text");
        assertThat(RecordDecoding.message(record(null, new ConnectHeaders())).value()).isEmpty();
    }

    @Test
    void theSharedDecoderTurnsThemIntoEvents() {
        ConnectHeaders h = new ConnectHeaders();
        h.addString("id", "e-3");
        InboxDecoder decoder = new InboxDecoder(new PgTrickleSinkConfig(Map.of("connection.url", "jdbc:postgresql://x/y",
                "inbox", "i", "event.id", "header:id,coordinates", "event.type", "field:type")).rules());
        InboxDecoder.Decoded withHeader = decoder.decode(RecordDecoding.message(record("{\"type\":\"t\"}", h)));
        assertThat(withHeader.event().eventId()).isEqualTo("e-3");
        assertThat(withHeader.event().eventType()).isEqualTo("t");
        InboxDecoder.Decoded without = decoder.decode(RecordDecoding.message(record("{}", new ConnectHeaders())));
        assertThat(without.event().eventId()).isEqualTo("kafka:orders/2/41");
        assertThat(decoder.decode(RecordDecoding.message(record("nope", h))).deadLetterReason())
                .startsWith("the payload is not JSON");
    }

    private static String text(SinkRecord r) {
        return new String(RecordDecoding.message(r).value(), StandardCharsets.UTF_8);
    }
}
