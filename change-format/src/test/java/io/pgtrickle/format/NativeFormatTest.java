package io.pgtrickle.format;

import static org.assertj.core.api.Assertions.assertThat;

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

        assertThat(m.value()).contains("\"before\":{\"k\":1,\"v\":580000.00}")
                .contains("\"v\":12345678901234567890.1234567890", "\"n\":98765432109876543210");
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
        EncodedMessage m = new DebeziumFormat().encode(update("{\"k\": 1, \"v\": 0.10}", "{\"k\": 1, \"v\": 1e-30}"));

        assertThat(m.value()).contains("\"v\":0.10", "\"v\":0.000000000000000000000000000001", "\"op\":\"u\"");
    }
}
