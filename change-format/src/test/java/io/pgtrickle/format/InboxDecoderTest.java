package io.pgtrickle.format;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.inbox.InboxEvent;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class InboxDecoderTest {
    private static final String COORDS = "kafka:orders/3/1042";

    private static InboxDecoder.Message message(Map<String, String> headers, String value) {
        return new InboxDecoder.Message("orders", COORDS, headers,
                value == null ? null : value.getBytes(StandardCharsets.UTF_8));
    }

    private static InboxDecoder decoder(String eventId, String eventType, String aggregateId) {
        return new InboxDecoder(InboxDecoder.Rules.of(FieldRule.parse(eventId), FieldRule.parse(eventType),
                FieldRule.parse(aggregateId)));
    }

    @Test
    void takesTheIdTypeAndAggregateFromTheirRules() {
        InboxDecoder.Decoded d = decoder("header:id", "field:type", "field:order.id")
                .decode(message(Map.of("id", "e-1"), "{\"type\":\"order.created\",\"order\":{\"id\":7}}"));
        assertThat(d.dead()).isFalse();
        assertThat(d.event()).isEqualTo(new InboxEvent("e-1", "order.created", "orders", "7",
                "{\"type\":\"order.created\",\"order\":{\"id\":7}}", "{\"id\":\"e-1\"}"));
    }

    @Test
    void coordinatesNameTheEventWhenConfigured() {
        InboxDecoder.Decoded d = decoder("coordinates", null, null).decode(message(Map.of(), "{\"a\":1}"));
        assertThat(d.event().eventId()).isEqualTo(COORDS);
        assertThat(d.event().eventType()).isNull();
        assertThat(d.event().aggregateId()).isNull();
        assertThat(d.event().headers()).isEqualTo("{}");
    }

    @Test
    void theFirstRuleThatFindsAValueWins() {
        InboxDecoder decoder = new InboxDecoder(new InboxDecoder.Rules(
                List.of(FieldRule.parse("header:id"), FieldRule.parse("field:id"), FieldRule.COORDINATES),
                List.of(), List.of()));
        assertThat(decoder.decode(message(Map.of("id", "h"), "{\"id\":\"f\"}")).event().eventId()).isEqualTo("h");
        assertThat(decoder.decode(message(Map.of("id", " "), "{\"id\":\"f\"}")).event().eventId()).isEqualTo("f");
        assertThat(decoder.decode(message(Map.of(), "{\"id\":{\"nested\":1}}")).event().eventId()).isEqualTo(COORDS);
    }

    @Test
    void aPayloadThatIsNotJsonIsADeadLetterUnderItsCoordinates() {
        InboxDecoder.Decoded d = decoder("header:id", null, null).decode(message(Map.of("id", "e-1"), "not json{"));
        assertThat(d.dead()).isTrue();
        assertThat(d.deadLetterReason()).startsWith("the payload is not JSON: ");
        assertThat(d.event().eventId()).isEqualTo(COORDS);
        assertThat(d.event().payload()).isEqualTo("{\"raw_base64\":\""
                + Base64.getEncoder().encodeToString("not json{".getBytes(StandardCharsets.UTF_8)) + "\"}");
    }

    @Test
    void anEmptyPayloadIsADeadLetter() {
        assertThat(decoder("coordinates", null, null).decode(message(Map.of(), null)).deadLetterReason())
                .isEqualTo("the payload is not JSON: the message is empty");
    }

    @Test
    void aMissingOrBlankEventIdIsADeadLetterNamingTheRules() {
        assertThat(decoder("field:id", null, null).decode(message(Map.of(), "{\"id\":\"\"}")).deadLetterReason())
                .isEqualTo("no event id: field:id is missing or empty in the message");
        InboxDecoder two = new InboxDecoder(new InboxDecoder.Rules(
                List.of(FieldRule.parse("header:id"), FieldRule.parse("field:id")), List.of(), List.of()));
        assertThat(two.decode(message(Map.of(), "{}")).deadLetterReason())
                .isEqualTo("no event id: header:id or field:id is missing or empty in the message");
    }

    @Test
    void anEventIdNeedsARule() {
        assertThatThrownBy(() -> new InboxDecoder.Rules(List.of(), List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
