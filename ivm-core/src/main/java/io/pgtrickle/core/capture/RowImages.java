package io.pgtrickle.core.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
 * {@link RowDecoder} reads back into exactly the source row: every
 * value in a form PostgreSQL's input function for the column type accepts. Trigger capture writes
 * {@code to_jsonb(row)} (adjusted the same way) into the same buffers, so both capture modes decode
 * the same way.
 *
 * <p>Relies on the connector settings made in {@link WalCapture}: decimals and intervals as
 * strings, binary as bytes, time types in Debezium's micro/nano representations, and each column's
 * source type as a schema parameter. Types Debezium does not know (composites, domains, arrays of
 * them, extension types such as cube or isbn13) arrive as the bytes of pgoutput's text form: they
 * are written back as that text, which the type's own input function reads, and only {@code bytea}
 * bytes become a bytea literal. hstore (which Debezium turns into a JSON object) is written in
 * hstore's own text form, since its input function reads no JSON. A json or jsonb value that is
 * JSON {@code null} is listed under {@link RowDecoder#JSON_NULLS_KEY}, as trigger capture does, so
 * that it does not read back as SQL NULL; arrays of json or jsonb arrive in their text form
 * ({@link UserTypeConverter}).
 */
public final class RowImages {
    /** What Debezium puts in place of a TOASTed value the WAL record does not carry. */
    public static final String UNAVAILABLE = "__debezium_unavailable_value";
    /** The schema parameter {@code column.propagate.source.type} adds: the column's type name. */
    static final String SOURCE_TYPE = "__debezium.source.column.type";
    private static final LocalDate POSITIVE_INFINITY_DATE = LocalDate.parse("-5877611-06-21");
    private static final LocalDate NEGATIVE_INFINITY_DATE = LocalDate.parse("-5877611-06-22");
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
        ArrayNode jsonNulls = null;
        for (Field f : image.schema().fields()) {
            // Not get(): for a NULL it answers the schema's default, which Debezium takes from the
            // column's DEFAULT (or a generated column's expression), so an explicit NULL would be lost.
            Object value = image.getWithoutDefault(f.name());
            if (before != null && isUnavailable(value)) {
                value = before.getWithoutDefault(f.name());
            }
            JsonNode node = node(f.schema(), value, sourceType(f.schema()));
            if (value != null && node.isNull()) {
                // Only a json-typed column's value is JSON null; it reads as SQL NULL unless listed.
                (jsonNulls == null ? jsonNulls = NODES.arrayNode() : jsonNulls).add(f.name());
            }
            row.set(f.name(), node);
        }
        if (jsonNulls != null) {
            row.set(RowDecoder.JSON_NULLS_KEY, jsonNulls);
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
            return new String(b, StandardCharsets.UTF_8).equals(UNAVAILABLE);
        }
        if (value instanceof ByteBuffer b) {
            return isUnavailable(bytes(b));
        }
        if (value instanceof List<?> list) {
            return list.size() == 1 && isUnavailable(list.get(0));
        }
        return false;
    }

    private static String sourceType(Schema schema) {
        Map<String, String> parameters = schema.parameters();
        return parameters == null ? null : parameters.get(SOURCE_TYPE);
    }

    /**
     * @param sourceType the column's PostgreSQL type name (arrays: {@code _element}), or null when
     *                   the connector did not say (then bytes are taken for bytea, as before)
     */
    private static JsonNode node(Schema schema, Object value, String sourceType) {
        if (value == null) {
            return NODES.nullNode();
        }
        if (sourceType != null && sourceType.equalsIgnoreCase("hstore")) {
            return NODES.textNode(hstoreText(value));
        }
        String name = schema.name();
        if (name != null) {
            switch (name) {
                case "io.debezium.time.Date" -> {
                    LocalDate day = LocalDate.ofEpochDay(((Number) value).longValue());
                    // Debezium's markers for 'infinity' and '-infinity' (an overflow of pgjdbc's).
                    return NODES.textNode(day.equals(POSITIVE_INFINITY_DATE) ? "infinity"
                            : day.equals(NEGATIVE_INFINITY_DATE) ? "-infinity" : day.toString());
                }
                case "org.apache.kafka.connect.data.Date" -> {
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
                case "io.debezium.data.Bits" -> {
                    return NODES.textNode(bitText(value instanceof ByteBuffer b ? bytes(b) : (byte[]) value, schema));
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
            case BYTES -> {
                byte[] raw = value instanceof ByteBuffer b ? bytes(b) : value instanceof BigDecimal bd
                        ? bd.toPlainString().getBytes(StandardCharsets.UTF_8) : (byte[]) value;
                yield isBytea(sourceType) ? NODES.textNode("\\x" + HexFormat.of().formatHex(raw))
                        : NODES.textNode(new String(raw, StandardCharsets.UTF_8));
            }
            case ARRAY -> {
                ArrayNode array = NODES.arrayNode();
                for (Object element : (List<?>) value) {
                    array.add(node(schema.valueSchema(), element, elementType(sourceType)));
                }
                yield array;
            }
            case MAP -> {
                ObjectNode map = NODES.objectNode();
                ((Map<?, ?>) value).forEach((k, v) -> map.set(String.valueOf(k), node(schema.valueSchema(), v, null)));
                yield map;
            }
            case STRUCT -> {
                ObjectNode struct = NODES.objectNode();
                Struct s = (Struct) value;
                s.schema().fields().forEach(f -> struct.set(f.name(), node(f.schema(), s.getWithoutDefault(f.name()), null)));
                yield struct;
            }
        };
    }

    /**
     * A bit string's text from Debezium's little-endian bytes, as long as the declared length
     * ({@code bit(n)}); a {@code varbit} value's leading zeros are not in the event.
     */
    private static String bitText(byte[] littleEndian, Schema schema) {
        java.util.BitSet bits = java.util.BitSet.valueOf(littleEndian);
        String declared = schema.parameters() == null ? null : schema.parameters().get("length");
        int length = declared == null ? 0 : Integer.parseInt(declared);
        if (length <= 0 || length > littleEndian.length * 8 + 64) {
            length = Math.max(1, bits.length());
        }
        StringBuilder text = new StringBuilder(length);
        for (int i = length - 1; i >= 0; i--) {
            text.append(bits.get(i) ? '1' : '0');
        }
        return text.toString();
    }

    /** Bytes are a bytea value only for bytea columns; otherwise they are a value's text form. */
    private static boolean isBytea(String sourceType) {
        return sourceType == null || sourceType.equalsIgnoreCase("bytea") || sourceType.equalsIgnoreCase("_bytea");
    }

    private static String elementType(String arrayType) {
        return arrayType != null && arrayType.startsWith("_") ? arrayType.substring(1) : null;
    }

    /** hstore's text form ({@code "k"=>"v", "n"=>NULL}) of Debezium's map or JSON object text. */
    static String hstoreText(Object value) {
        Map<?, ?> pairs;
        if (value instanceof Map<?, ?> m) {
            pairs = m;
        } else {
            JsonNode object = parseJson(String.valueOf(value));
            java.util.LinkedHashMap<String, String> read = new java.util.LinkedHashMap<>();
            object.fields().forEachRemaining(e -> read.put(e.getKey(), e.getValue().isNull() ? null : e.getValue().asText()));
            pairs = read;
        }
        StringBuilder text = new StringBuilder();
        pairs.forEach((k, v) -> {
            if (!text.isEmpty()) {
                text.append(", ");
            }
            text.append(hstoreQuoted(String.valueOf(k))).append("=>").append(v == null ? "NULL" : hstoreQuoted(String.valueOf(v)));
        });
        return text.toString();
    }

    private static String hstoreQuoted(String s) {
        return "\"" + s.replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static JsonNode parseJson(String text) {
        try {
            return JSON.readTree(text);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException("cannot decode a json value of a row image: " + e.getOriginalMessage(), e);
        }
    }

    /**
     * A timestamp's text from Debezium's count of units since the epoch, without overflowing
     * (a nanosecond count in a long spans only 1678–2262). Debezium carries 'infinity' and
     * '-infinity' as pgjdbc's markers, in microseconds.
     */
    static String localDateTime(long value, long nanosPerUnit) {
        long micros = nanosPerUnit == 1L ? value / 1_000L : nanosPerUnit == 1_000L ? value
                : Math.abs(value) > Long.MAX_VALUE / 1_000L ? (value > 0 ? Long.MAX_VALUE : Long.MIN_VALUE) : value * 1_000L;
        if (micros >= org.postgresql.PGStatement.DATE_POSITIVE_INFINITY) {
            return "infinity";
        }
        if (micros <= org.postgresql.PGStatement.DATE_NEGATIVE_INFINITY) {
            return "-infinity";
        }
        long unitsPerSecond = 1_000_000_000L / nanosPerUnit;
        Instant instant = Instant.ofEpochSecond(Math.floorDiv(value, unitsPerSecond),
                Math.floorMod(value, unitsPerSecond) * nanosPerUnit);
        return java.time.LocalDateTime.ofInstant(instant, ZoneOffset.UTC).toString();
    }

    private static byte[] bytes(ByteBuffer b) {
        ByteBuffer copy = b.duplicate();
        byte[] out = new byte[copy.remaining()];
        copy.get(out);
        return out;
    }
}
