package io.pgtrickle.core.capture;

import io.debezium.spi.converter.CustomConverter;
import io.debezium.spi.converter.RelationalColumn;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Properties;
import org.apache.kafka.connect.data.SchemaBuilder;

/**
 * A Debezium converter for columns of user-defined types that Debezium's own conversion gets
 * wrong; it hands them over as their PostgreSQL text form.
 *
 * <ul>
 *   <li>Arrays of user-defined types (domains, enums, composites, extension types): Debezium parses
 *       them into elements of a type it does not know, with a schema whose elements may not be
 *       NULL; an array holding a NULL then fails to convert (and used to become NULL after a
 *       warning). Their text form reads back exactly through the array type's input function.</li>
 *   <li>Arrays of json and jsonb: as JSON arrays, a NULL element and a JSON {@code null} element
 *       would both be {@code null}; their text form keeps them apart.</li>
 *   <li>Domains over bytea: Debezium reports them with bytea's type id but the domain's name, and
 *       their bytes would pass for the text bytes of a type it does not know (see
 *       {@link RowImages}); they are written as a bytea literal here.</li>
 * </ul>
 * Scalars of other user-defined types arrive as their text bytes already (see {@link RowImages});
 * domains over other built-in types arrive as their base type's value.
 */
public final class UserTypeConverter implements CustomConverter<SchemaBuilder, RelationalColumn> {
    /** Object ids below this are PostgreSQL's own (FirstNormalObjectId). */
    private static final int FIRST_USER_OID = 16384;
    private static final int BYTEA_OID = 17;
    /** Arrays of json and jsonb, by their type names. */
    private static final java.util.Set<String> JSON_ARRAYS = java.util.Set.of("_json", "_jsonb");

    @Override
    public void configure(Properties properties) {
    }

    @Override
    public void converterFor(RelationalColumn column, ConverterRegistration<SchemaBuilder> registration) {
        String type = column.typeName();
        if (type == null) {
            return;
        }
        if ((column.nativeType() >= FIRST_USER_OID && type.startsWith("_")) || JSON_ARRAYS.contains(type.toLowerCase(java.util.Locale.ROOT))) {
            registration.register(SchemaBuilder.string().optional(), UserTypeConverter::text);
        } else if (column.nativeType() == BYTEA_OID && !type.equalsIgnoreCase("bytea")) {
            registration.register(SchemaBuilder.string().optional(), UserTypeConverter::byteaText);
        }
    }

    private static Object text(Object value) {
        if (value == null) {
            return null;
        }
        if (value instanceof byte[] bytes) {
            return new String(bytes, StandardCharsets.UTF_8);
        }
        // pgjdbc's PgArray built from the array's text prints that text.
        return value.toString();
    }

    private static Object byteaText(Object value) {
        if (value instanceof ByteBuffer buffer) {
            byte[] bytes = new byte[buffer.remaining()];
            buffer.duplicate().get(bytes);
            value = bytes;
        }
        return value instanceof byte[] bytes ? "\\x" + HexFormat.of().formatHex(bytes) : value == null ? null : value.toString();
    }
}
