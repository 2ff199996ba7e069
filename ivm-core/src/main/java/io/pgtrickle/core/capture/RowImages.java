package io.pgtrickle.core.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/**
 * Turns Debezium's row images (Kafka Connect structs) into JSON objects that
 * {@code jsonb_populate_record(NULL::source, row)} reads back into exactly the source row: every
 * value in a form PostgreSQL's input function for the column type accepts. Trigger capture writes
 * {@code to_jsonb(row)} into the same buffers, so both capture modes decode the same way.
 *
 * <p>Relies on the connector settings made in {@link WalCapture}: decimals and intervals as
 * strings, binary as bytes, time types in Debezium's micro/nano representations.
 */
public final class RowImages {
    /** What Debezium puts in place of a TOASTed value the WAL record does not carry. */
    public static final String UNAVAILABLE = "__debezium_unavailable_value";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;

    private RowImages() {
    }

    /**
     * The JSON text of {@code image}. Columns whose value is the unavailable placeholder (an
     * UPDATE that left a TOASTed value unchanged) take the value from {@code before}, which
     * REPLICA IDENTITY FULL makes complete.
     */
    public static String toJson(Struct image, Struct before) {
        ObjectNode row = NODES.objectNode();
        for (Field f : image.schema().fields()) {
            Object value = image.get(f);
            if (before != null && isUnavailable(value)) {
                value = before.get(f.name());
            }
            row.set(f.name(), node(f.schema(), value));
        }
        try {
            return JSON.writeValueAsString(row);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot encode row image", e);
        }
    }

    static boolean isUnavailable(Object value) {
        if (value instanceof String s) {
            return s.equals(UNAVAILABLE);
        }
        if (value instanceof byte[] b) {
            return new String(b, java.nio.charset.StandardCharsets.UTF_8).equals(UNAVAILABLE);
        }
        if (value instanceof ByteBuffer b) {
            return isUnavailable(bytes(b));
        }
        if (value instanceof List<?> list) {
            return list.size() == 1 && isUnavailable(list.get(0));
        }
        return false;
    }

    private static JsonNode node(Schema schema, Object value) {
        if (value == null) {
            return NODES.nullNode();
        }
        String name = schema.name();
        if (name != null) {
            switch (name) {
                case "io.debezium.time.Date", "org.apache.kafka.connect.data.Date" -> {
                    return NODES.textNode(value instanceof java.util.Date d
                            ? LocalDate.ofInstant(d.toInstant(), ZoneOffset.UTC).toString()
                            : LocalDate.ofEpochDay(((Number) value).longValue()).toString());
                }
                case "io.debezium.time.Time" -> {
                    return NODES.textNode(LocalTime.ofNanoOfDay(((Number) value).longValue() * 1_000_000L).toString());
                }
                case "io.debezium.time.MicroTime" -> {
                    return NODES.textNode(LocalTime.ofNanoOfDay(((Number) value).longValue() * 1_000L).toString());
                }
                case "io.debezium.time.NanoTime" -> {
                    return NODES.textNode(LocalTime.ofNanoOfDay(((Number) value).longValue()).toString());
                }
                case "io.debezium.time.Timestamp" -> {
                    return NODES.textNode(localDateTime(((Number) value).longValue(), 1_000_000L));
                }
                case "io.debezium.time.MicroTimestamp" -> {
                    return NODES.textNode(localDateTime(((Number) value).longValue(), 1_000L));
                }
                case "io.debezium.time.NanoTimestamp" -> {
                    return NODES.textNode(localDateTime(((Number) value).longValue(), 1L));
                }
                case "io.debezium.data.geometry.Point" -> {
                    Struct p = (Struct) value;
                    return NODES.textNode("(" + p.get("x") + "," + p.get("y") + ")");
                }
                case "io.debezium.data.Json" -> {
                    // json and jsonb arrive as their text; as a string they would be double-encoded.
                    return parseJson((String) value);
                }
                default -> {
                    // ZonedTimestamp, Interval (ISO 8601), Uuid, Xml, Enum, decimals: strings PostgreSQL parses.
                }
            }
        }
        return switch (schema.type()) {
            case BOOLEAN -> NODES.booleanNode((Boolean) value);
            case INT8, INT16, INT32, INT64 -> NODES.numberNode(((Number) value).longValue());
            case FLOAT32, FLOAT64 -> {
                double d = ((Number) value).doubleValue();
                yield Double.isFinite(d) ? NODES.numberNode(new BigDecimal(value.toString()))
                        : NODES.textNode(Double.isNaN(d) ? "NaN" : d > 0 ? "Infinity" : "-Infinity");
            }
            case STRING -> NODES.textNode((String) value);
            case BYTES -> NODES.textNode("\\x" + HexFormat.of().formatHex(
                    value instanceof ByteBuffer b ? bytes(b) : value instanceof BigDecimal bd
                            ? bd.toPlainString().getBytes(java.nio.charset.StandardCharsets.UTF_8) : (byte[]) value));
            case ARRAY -> {
                ArrayNode array = NODES.arrayNode();
                for (Object element : (List<?>) value) {
                    array.add(node(schema.valueSchema(), element));
                }
                yield array;
            }
            case MAP -> {
                ObjectNode map = NODES.objectNode();
                ((Map<?, ?>) value).forEach((k, v) -> map.set(String.valueOf(k), node(schema.valueSchema(), v)));
                yield map;
            }
            case STRUCT -> {
                ObjectNode struct = NODES.objectNode();
                Struct s = (Struct) value;
                s.schema().fields().forEach(f -> struct.set(f.name(), node(f.schema(), s.get(f))));
                yield struct;
            }
        };
    }

    private static JsonNode parseJson(String text) {
        try {
            return JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot decode a json value of a row image: " + e.getOriginalMessage(), e);
        }
    }

    private static String localDateTime(long value, long nanosPerUnit) {
        long nanosTotal = Math.multiplyExact(value, nanosPerUnit);
        Instant instant = Instant.ofEpochSecond(Math.floorDiv(nanosTotal, 1_000_000_000L),
                Math.floorMod(nanosTotal, 1_000_000_000L));
        return java.time.LocalDateTime.ofInstant(instant, ZoneOffset.UTC).toString();
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer copy = b.duplicate();
        byte[] out = new byte[copy.remaining()];
        copy.get(out);
        return out;
    }
}
