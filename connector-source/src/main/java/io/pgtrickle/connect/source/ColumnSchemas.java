package io.pgtrickle.connect.source;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;

/**
 * The Connect schema of a PostgreSQL column, from its {@code format_type()} text. Every schema is
 * optional: outbox images come from aggregates and joins, which can yield NULL in any column.
 *
 * <p>Choices: {@code numeric(p,s)} is a {@link Decimal} of scale {@code s}; unconstrained
 * {@code numeric} (whose values have different scales) is a string holding the exact decimal text,
 * as Debezium's {@code decimal.handling.mode=string} writes it. {@code json}/{@code jsonb} are strings
 * named {@value #JSON}, {@code uuid} strings named {@value #UUID}, as Debezium names them. Types not
 * listed (intervals, ranges, enums, geometric types...) are strings holding their JSON text.
 */
final class ColumnSchemas {
    static final String JSON = "io.debezium.data.Json";
    static final String UUID = "io.debezium.data.Uuid";
    private static final Pattern NUMERIC = Pattern.compile("numeric\\((\\d+)(?:,(-?\\d+))?\\)");

    private ColumnSchemas() {
    }

    /** The schema of a column of type {@code formatType} (as {@code format_type(atttypid, atttypmod)} prints it). */
    static Schema of(String formatType) {
        String type = formatType.trim().toLowerCase(Locale.ROOT);
        if (type.endsWith("[]")) {
            String element = type.substring(0, type.length() - 2);
            while (element.endsWith("[]")) {
                element = element.substring(0, element.length() - 2); // PostgreSQL arrays have no fixed dimensions
            }
            return SchemaBuilder.array(of(element)).optional().build();
        }
        Matcher numeric = NUMERIC.matcher(type);
        if (numeric.matches()) {
            int scale = numeric.group(2) == null ? 0 : Integer.parseInt(numeric.group(2));
            return Decimal.builder(scale).parameter("connect.decimal.precision", numeric.group(1)).optional().build();
        }
        String base = type.replaceAll("\\(\\d+\\)", "");
        switch (base) {
            case "smallint":
                return Schema.OPTIONAL_INT16_SCHEMA;
            case "integer":
                return Schema.OPTIONAL_INT32_SCHEMA;
            case "bigint":
                return Schema.OPTIONAL_INT64_SCHEMA;
            case "real":
                return Schema.OPTIONAL_FLOAT32_SCHEMA;
            case "double precision":
                return Schema.OPTIONAL_FLOAT64_SCHEMA;
            case "boolean":
                return Schema.OPTIONAL_BOOLEAN_SCHEMA;
            case "bytea":
                return Schema.OPTIONAL_BYTES_SCHEMA;
            case "date":
                return Date.builder().optional().build();
            case "time without time zone":
                return Time.builder().optional().build();
            case "timestamp without time zone":
            case "timestamp with time zone":
                return Timestamp.builder().optional().build();
            case "json":
            case "jsonb":
                return SchemaBuilder.string().name(JSON).version(1).optional().build();
            case "uuid":
                return SchemaBuilder.string().name(UUID).version(1).optional().build();
            default:
                // numeric without precision, text, varchar, char, name, time with time zone, and the rest
                return Schema.OPTIONAL_STRING_SCHEMA;
        }
    }
}
