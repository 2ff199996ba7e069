package io.pgtrickle.format;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgtrickle.core.outbox.OutboxPosition;
import java.time.OffsetDateTime;
import org.junit.jupiter.api.Test;

class NativeFormatTest {
    private static ChangeEvent update(String before, String after) {
        return new ChangeEvent("public.totals", 7L, new OutboxPosition(3, 1),
                OffsetDateTime.parse("2026-12-02T10:00:00Z"), "update", "{\"k\": 1}", before, after);
    }

    @Test
    void numbersKeepTheirExactTextThroughTheEncoding() {
        EncodedMessage m = new NativeFormat().encode(update("{\"k\": 1, \"v\": 580000.00}",
                "{\"k\": 1, \"v\": 12345678901234567890.1234567890, \"n\": 98765432109876543210}"));

        // The images are spliced in as PostgreSQL wrote them (jsonb's text, spaces included).
        assertThat(m.value()).contains("\"before\":{\"k\": 1, \"v\": 580000.00}")
                .contains("\"v\": 12345678901234567890.1234567890", "\"n\": 98765432109876543210");
        JsonNode tree = Json.tree(m.value());
        assertThat(tree.path("after").path("v").decimalValue()).isEqualByComparingTo("12345678901234567890.1234567890");
        assertThat(tree.path("key")).isEqualTo(Json.tree("{\"k\": 1}"));
    }

    @Test
    void theEnvelopeCarriesTheChangeAndItsCoordinates() {
        EncodedMessage m = new NativeFormat().encode(update(null, "{\"k\": 1}"));

        assertThat(m.key()).isEqualTo("{\"k\": 1}");
        assertThat(m.value()).contains("\"op\":\"update\"", "\"before\":null", "\"stream_table\":\"public.totals\"",
                "\"refresh_id\":7", "\"position\":\"" + new OutboxPosition(3, 1) + "\"");
        assertThat(m.headers()).containsEntry(Headers.DEDUP_KEY, "public.totals:3:1").containsEntry(Headers.OP, "update");
    }

    @Test
    void debeziumEnvelopeNumbersAreExactToo() {
        // numeric's text is never in exponent form, so neither is jsonb's
        EncodedMessage m = new DebeziumFormat().encode(update("{\"k\": 1, \"v\": 0.10}",
                "{\"k\": 1, \"v\": 0.000000000000000000000000000001}"));

        assertThat(m.value()).contains("\"v\": 0.10", "\"v\": 0.000000000000000000000000000001", "\"op\":\"u\"");
        JsonNode tree = Json.tree(m.value());
        assertThat(tree.path("source").path("table").asText()).isEqualTo("totals");
        assertThat(tree.path("before").path("v").decimalValue().scale()).isEqualTo(2);
    }
}
