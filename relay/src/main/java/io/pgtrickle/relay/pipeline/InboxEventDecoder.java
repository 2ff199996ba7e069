package io.pgtrickle.relay.pipeline;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgtrickle.core.inbox.InboxEvent;
import io.pgtrickle.format.FieldRule;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.source.InboundMessage;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

/**
 * Turns a consumed message into an inbox event: the payload must be JSON; the event id comes from
 * the configured header, payload field or the source coordinates (never the message key alone: it
 * names an entity, and two events about one entity would collapse into one). A message that cannot
 * be decoded becomes a dead letter, with the reason, under its coordinates.
 */
final class InboxEventDecoder {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A decoded message: an event, and the reason when it goes to the dead-letter table. */
    record Decoded(InboxEvent event, String deadLetterReason) {
        boolean dead() {
            return deadLetterReason != null;
        }
    }

    private final SinkConfig.Inbox sink;

    InboxEventDecoder(SinkConfig.Inbox sink) {
        this.sink = sink;
    }

    Decoded decode(InboundMessage m) {
        String headers = headersJson(m.headers());
        String text = new String(m.value(), StandardCharsets.UTF_8);
        JsonNode payload;
        try {
            payload = JSON.readTree(text);
            if (payload == null || payload.isMissingNode()) {
                throw new IllegalArgumentException("the message is empty");
            }
        } catch (JsonProcessingException | IllegalArgumentException e) {
            String reason = "the payload is not JSON: " + firstLine(e.getMessage());
            return dead(m, headers, reason);
        }
        String eventId = value(sink.eventId(), m, payload);
        if (eventId == null || eventId.isBlank()) {
            return dead(m, headers, "no event id: " + sink.eventId() + " is missing or empty in the message");
        }
        return new Decoded(new InboxEvent(eventId, value(sink.eventType(), m, payload), m.source(),
                value(sink.aggregateId(), m, payload), text, headers), null);
    }

    private Decoded dead(InboundMessage m, String headers, String reason) {
        ObjectNode raw = JSON.createObjectNode();
        raw.put("raw_base64", Base64.getEncoder().encodeToString(m.value()));
        return new Decoded(new InboxEvent(m.coordinates(), null, m.source(), null, raw.toString(), headers), reason);
    }

    private static String value(FieldRule rule, InboundMessage m, JsonNode payload) {
        if (rule == null) {
            return null;
        }
        return switch (rule.kind()) {
            case COORDINATES -> m.coordinates();
            case HEADER -> m.headers().get(rule.name());
            case FIELD -> field(payload, rule.name());
        };
    }

    private static String field(JsonNode payload, String dottedPath) {
        JsonNode node = payload;
        for (String part : dottedPath.split("\\.")) {
            node = node == null ? null : node.get(part);
        }
        if (node == null || node.isNull() || node.isContainerNode()) {
            return null;
        }
        return node.asText();
    }

    private static String headersJson(Map<String, String> headers) {
        ObjectNode o = JSON.createObjectNode();
        headers.forEach(o::put);
        return o.toString();
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
