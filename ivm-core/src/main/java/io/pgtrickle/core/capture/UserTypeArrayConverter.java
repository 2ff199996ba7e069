package io.pgtrickle.core.capture;

import io.debezium.spi.converter.CustomConverter;
import io.debezium.spi.converter.RelationalColumn;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import org.apache.kafka.connect.data.SchemaBuilder;

/**
 * A Debezium converter that hands arrays of user-defined types (domains, enums, composites,
 * extension types) over as their PostgreSQL text form.
 *
 * <p>Debezium parses such an array into elements of a type it does not know, with a schema whose
 * elements may not be NULL: an array holding a NULL then fails to convert, and Debezium replaces
 * the whole value with NULL after a warning — a silently wrong row. The text form reads back
 * exactly through the array type's input function. Only arrays are claimed; scalars of these
 * types arrive as their text bytes already (see {@link RowImages}).
 */
public final class UserTypeArrayConverter implements CustomConverter<SchemaBuilder, RelationalColumn> {
    /** Object ids below this are PostgreSQL's own (FirstNormalObjectId). */
    private static final int FIRST_USER_OID = 16384;

    @Override
    public void configure(Properties properties) {
    }

    @Override
    public void converterFor(RelationalColumn column, ConverterRegistration<SchemaBuilder> registration) {
        if (column.nativeType() < FIRST_USER_OID || column.typeName() == null || !column.typeName().startsWith("_")) {
            return;
        }
        registration.register(SchemaBuilder.string().optional(), UserTypeArrayConverter::text);
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
}
