package io.pgtrickle.format;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgtrickle.core.inbox.InboxEvent;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Turns a consumed message into an inbox event, for every consumer that fills inboxes (the relay's
 * reverse pipelines, the Kafka Connect sink). The payload must be JSON; the event id comes from the
 * first of its rules that finds a value: a header, a payload field or the source coordinates (never
 * the message key alone: it names an entity, and two events about one entity would collapse into
 * one). A message that cannot be decoded yields a dead letter, with the reason, under its
 * coordinates.
 */
public final class InboxDecoder {
    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Where the parts of an event come from; each list is tried in order, the first value found wins.
     *
     * @param eventId not empty
     * @param eventType empty: no type
     * @param aggregateId empty: no aggregate id
     */
    public record Rules(List<FieldRule> eventId, List<FieldRule> eventType, List<FieldRule> aggregateId) {
        public Rules {
            eventId = List.copyOf(eventId);
            eventType = List.copyOf(eventType);
            aggregateId = List.copyOf(aggregateId);
            if (eventId.isEmpty()) {
                throw new IllegalArgumentException("the event id needs at least one rule");
            }
        }

        /** One rule each; {@code eventType} and {@code aggregateId} may be null (not set). */
        public static Rules of(FieldRule eventId, FieldRule eventType, FieldRule aggregateId) {
            return new Rules(List.of(Objects.requireNonNull(eventId, "eventId")), optional(eventType),
                    optional(aggregateId));
        }

        private static List<FieldRule> optional(FieldRule rule) {
            return rule == null ? List.of() : List.of(rule);
        }
    }

    /**
     * A consumed message, as far as decoding needs it.
     *
     * @param source the topic, subject or stream key it came from
     * @param coordinates its unique name in that source, e.g. {@code kafka:orders/3/1042}
     * @param headers header names to values (one value per name)
     * @param value the payload bytes; null counts as empty
     */
    public record Message(String source, String coordinates, Map<String, String> headers, byte[] value) {
        public Message {
            Objects.requireNonNull(source, "source");
            Objects.requireNonNull(coordinates, "coordinates");
            headers = Map.copyOf(headers);
            value = value == null ? new byte[0] : value;
        }
    }

    /** A decoded message: an event, and the reason when it is a dead letter (null otherwise). */
    public record Decoded(InboxEvent event, String deadLetterReason) {
        public boolean dead() {
            return deadLetterReason != null;
        }
    }

    private final Rules rules;

    public InboxDecoder(Rules rules) {
        this.rules = Objects.requireNonNull(rules, "rules");
    }

    public Decoded decode(Message m) {
        String headers = headersJson(m.headers());
        String text = new String(m.value(), StandardCharsets.UTF_8);
        JsonNode payload;
        try {
            payload = JSON.readTree(text);
            if (payload == null || payload.isMissingNode()) {
                throw new IllegalArgumentException("the message is empty");
            }
        } catch (JsonProcessingException | IllegalArgumentException e) {
            return dead(m, headers, "the payload is not JSON: " + firstLine(e.getMessage()));
        }
        String eventId = value(rules.eventId(), m, payload);
        if (eventId == null || eventId.isBlank()) {
            return dead(m, headers, "no event id: " + describe(rules.eventId()) + " is missing or empty in the message");
        }
        return new Decoded(new InboxEvent(eventId, value(rules.eventType(), m, payload), m.source(),
                value(rules.aggregateId(), m, payload), text, headers), null);
    }

    private static Decoded dead(Message m, String headers, String reason) {
        ObjectNode raw = JSON.createObjectNode();
        raw.put("raw_base64", Base64.getEncoder().encodeToString(m.value()));
        return new Decoded(new InboxEvent(m.coordinates(), null, m.source(), null, raw.toString(), headers), reason);
    }

    /** The first non-blank value the rules find, else the first blank one, else null. */
    private static String value(List<FieldRule> rules, Message m, JsonNode payload) {
        String blank = null;
        for (FieldRule rule : rules) {
            String v = value(rule, m, payload);
            if (v != null && !v.isBlank()) {
                return v;
            }
            blank = blank == null ? v : blank;
        }
        return blank;
    }

    private static String value(FieldRule rule, Message m, JsonNode payload) {
        switch (rule.kind()) {
            case COORDINATES:
                return m.coordinates();
            case HEADER:
                return m.headers().get(rule.name());
            case FIELD:
                return field(payload, rule.name());
            default:
                throw new IllegalStateException("unknown rule " + rule);
        }
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

    private static String describe(List<FieldRule> rules) {
        return rules.stream().map(FieldRule::toString).collect(Collectors.joining(" or "));
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
