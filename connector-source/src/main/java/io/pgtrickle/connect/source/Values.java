package io.pgtrickle.connect.source;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.LocalTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Field;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.apache.kafka.connect.errors.DataException;

/**
 * Connect values from the outbox's JSON images ({@code to_jsonb} of the stream table's rows): numbers
 * as JSON numbers (read as exact decimals), dates and timestamps as ISO text, {@code bytea} as
 * {@code \x...} hex text, arrays as JSON arrays, {@code json}/{@code jsonb} as nested JSON.
 */
final class Values {
    private static final ObjectMapper MAPPER = new ObjectMapper()
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private Values() {
    }

    /** The JSON text from the outbox as a tree; null for SQL NULL. */
    static JsonNode parse(String json) {
        if (json == null) {
            return null;
        }
        try {
            return MAPPER.readTree(json);
        } catch (JsonProcessingException e) {
            throw new DataException("the outbox holds text that is not JSON: " + json, e);
        }
    }

    /** A struct of {@code schema} from a JSON object; null for JSON null or absent. */
    static Struct struct(Schema schema, JsonNode object) {
        if (object == null || object.isNull()) {
            return null;
        }
        Struct s = new Struct(schema);
        for (Field f : schema.fields()) {
            s.put(f, value(f.schema(), object.get(f.name())));
        }
        return s;
    }

    /** Whether every field of {@code object} is a field of {@code schema} (else the table was redefined). */
    static boolean covers(Schema schema, JsonNode object) {
        if (object == null || !object.isObject()) {
            return true;
        }
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            if (schema.field(it.next()) == null) {
                return false;
            }
        }
        return true;
    }

    static Object value(Schema schema, JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        String logical = schema.name();
        if (Decimal.LOGICAL_NAME.equals(logical)) {
            int scale = Integer.parseInt(schema.parameters().get(Decimal.SCALE_FIELD));
            return number(node).setScale(scale, RoundingMode.HALF_EVEN);
        }
        if (Date.LOGICAL_NAME.equals(logical)) {
            return Temporals.date(node.asText());
        }
        if (Time.LOGICAL_NAME.equals(logical)) {
            return new java.util.Date(LocalTime.parse(node.asText()).toNanoOfDay() / 1_000_000);
        }
        if (Timestamp.LOGICAL_NAME.equals(logical)) {
            return Temporals.timestamp(node.asText());
        }
        if (ColumnSchemas.JSON.equals(logical)) {
            return node.toString();
        }
        switch (schema.type()) {
            case INT16:
                return (short) node.asInt();
            case INT32:
                return node.asInt();
            case INT64:
                return node.asLong();
            case FLOAT32:
                return node.isNumber() ? node.floatValue() : Float.parseFloat(node.asText()); // "NaN", "Infinity"
            case FLOAT64:
                return node.isNumber() ? node.doubleValue() : Double.parseDouble(node.asText());
            case BOOLEAN:
                return node.asBoolean();
            case BYTES:
                return hex(node.asText());
            case ARRAY:
                List<Object> list = new ArrayList<>();
                node.forEach(e -> list.add(value(schema.valueSchema(), e)));
                return list;
            default:
                if (node.isBigDecimal()) {
                    return node.decimalValue().toPlainString(); // unconstrained numeric: exact, never 1E+2
                }
                return node.isTextual() ? node.asText() : node.toString();
        }
    }

    private static BigDecimal number(JsonNode node) {
        if (node.isNumber()) {
            return node.decimalValue();
        }
        try {
            return new BigDecimal(node.asText());
        } catch (NumberFormatException e) {
            throw new DataException("numeric value " + node + " has no Decimal form (NaN or infinity); declare the column"
                    + " as numeric without precision to publish it as text", e);
        }
    }

    private static byte[] hex(String text) {
        if (!text.startsWith("\\x")) {
            throw new DataException("bytea value is not in hex form (\\x...): " + text);
        }
        int n = (text.length() - 2) / 2;
        byte[] bytes = new byte[n];
        for (int i = 0; i < n; i++) {
            bytes[i] = (byte) Integer.parseInt(text.substring(2 + 2 * i, 4 + 2 * i), 16);
        }
        return bytes;
    }

    /** PostgreSQL's JSON forms of dates and timestamps, infinities included. */
    static final class Temporals {
        private Temporals() {
        }

        static java.util.Date date(String text) {
            if (text.endsWith("infinity")) {
                return infinity(text);
            }
            return new java.util.Date(LocalDate.parse(text).atStartOfDay(ZoneOffset.UTC).toInstant().toEpochMilli());
        }

        static java.util.Date timestamp(String text) {
            if (text.endsWith("infinity")) {
                return infinity(text);
            }
            // timestamptz: 2026-12-02T20:50:24.5+00:00 (offsets may lack minutes: +05); timestamp: no offset, read as UTC
            if (text.length() > 19 && (text.lastIndexOf('+') > 10 || text.lastIndexOf('-') > 10)) {
                String t = text.matches(".*[+-]\\d\\d$") ? text + ":00" : text;
                return java.util.Date.from(OffsetDateTime.parse(t).toInstant());
            }
            return java.util.Date.from(LocalDateTime.parse(text).toInstant(ZoneOffset.UTC));
        }

        private static java.util.Date infinity(String text) {
            return new java.util.Date(text.startsWith("-") ? Long.MIN_VALUE : Long.MAX_VALUE);
        }
    }
}
