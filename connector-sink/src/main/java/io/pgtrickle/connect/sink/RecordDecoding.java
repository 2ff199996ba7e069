package io.pgtrickle.connect.sink;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrickle.format.InboxDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Values;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.sink.SinkRecord;

/**
 * A sink record as change-format's {@link InboxDecoder} reads a message: the value as bytes (as the
 * ByteArrayConverter or StringConverter hand it over, or JSON written from what the JsonConverter
 * made of it), headers as text, and the coordinates {@code kafka:<topic>/<partition>/<offset>} of
 * the record as Kafka stored it (before any transformation renamed its topic), the same the relay
 * gives a message it reads from that topic.
 */
final class RecordDecoding {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RecordDecoding() {
    }

    static InboxDecoder.Message message(SinkRecord r) {
        Map<String, String> headers = new HashMap<>();
        for (Header h : r.headers()) {
            String text = headerText(h);
            if (text != null) { // a header without a value gives no event id or type
                headers.put(h.key(), text); // the last value wins
            }
        }
        return new InboxDecoder.Message(r.originalTopic(), coordinates(r), headers, bytes(r.value()));
    }

    /** {@code kafka:<topic>/<partition>/<offset>}. */
    static String coordinates(SinkRecord r) {
        return "kafka:" + r.originalTopic() + "/" + r.originalKafkaPartition() + "/" + r.originalKafkaOffset();
    }

    /** {@code <topic>/<partition>/<offset>}, for messages about a record. */
    static String describe(SinkRecord r) {
        return "topic " + r.originalTopic() + " partition " + r.originalKafkaPartition() + " offset "
                + r.originalKafkaOffset();
    }

    private static String headerText(Header h) {
        Object v = h.value();
        if (v == null) {
            return null;
        }
        if (v instanceof String) {
            return (String) v;
        }
        if (v instanceof byte[]) {
            return new String((byte[]) v, StandardCharsets.UTF_8);
        }
        return Values.convertToString(h.schema(), v);
    }

    private static byte[] bytes(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof byte[]) {
            return (byte[]) value;
        }
        if (value instanceof ByteBuffer) {
            ByteBuffer b = ((ByteBuffer) value).duplicate();
            byte[] out = new byte[b.remaining()];
            b.get(out);
            return out;
        }
        if (value instanceof String) {
            return ((String) value).getBytes(StandardCharsets.UTF_8);
        }
        try {
            return JSON.writeValueAsBytes(plain(value));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the record value cannot be written as JSON: " + e.getOriginalMessage(), e);
        }
    }

    /** Connect data (Struct, Map, List, primitives) as plain Java values Jackson writes. */
    private static Object plain(Object value) {
        if (value instanceof Struct) {
            Struct s = (Struct) value;
            Map<String, Object> out = new LinkedHashMap<>();
            for (Field f : s.schema().fields()) {
                out.put(f.name(), plain(s.get(f)));
            }
            return out;
        }
        if (value instanceof Map) {
            Map<String, Object> out = new LinkedHashMap<>();
            ((Map<?, ?>) value).forEach((k, v) -> out.put(String.valueOf(k), plain(v)));
            return out;
        }
        if (value instanceof List) {
            List<Object> out = new ArrayList<>();
            ((List<?>) value).forEach(v -> out.add(plain(v)));
            return out;
        }
        if (value instanceof ByteBuffer || value instanceof byte[]) {
            return bytes(value);
        }
        return value;
    }
}
