package io.pgtrickle.connect.source;

import static org.assertj.core.api.Assertions.assertThat;

import org.apache.kafka.connect.data.Date;
import org.apache.kafka.connect.data.Decimal;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Time;
import org.apache.kafka.connect.data.Timestamp;
import org.junit.jupiter.api.Test;

class ColumnSchemasTest {
    @Test
    void integersAndFloats() {
        assertThat(ColumnSchemas.of("smallint")).isEqualTo(Schema.OPTIONAL_INT16_SCHEMA);
        assertThat(ColumnSchemas.of("integer")).isEqualTo(Schema.OPTIONAL_INT32_SCHEMA);
        assertThat(ColumnSchemas.of("bigint")).isEqualTo(Schema.OPTIONAL_INT64_SCHEMA);
        assertThat(ColumnSchemas.of("real")).isEqualTo(Schema.OPTIONAL_FLOAT32_SCHEMA);
        assertThat(ColumnSchemas.of("double precision")).isEqualTo(Schema.OPTIONAL_FLOAT64_SCHEMA);
        assertThat(ColumnSchemas.of("boolean")).isEqualTo(Schema.OPTIONAL_BOOLEAN_SCHEMA);
        assertThat(ColumnSchemas.of("bytea")).isEqualTo(Schema.OPTIONAL_BYTES_SCHEMA);
    }

    @Test
    void numericWithAScaleIsADecimalAndWithoutOneExactText() {
        Schema s = ColumnSchemas.of("numeric(12,2)");
        assertThat(s.name()).isEqualTo(Decimal.LOGICAL_NAME);
        assertThat(s.parameters()).containsEntry(Decimal.SCALE_FIELD, "2").containsEntry("connect.decimal.precision", "12");
        assertThat(s.isOptional()).isTrue();
        assertThat(ColumnSchemas.of("numeric(5)").parameters()).containsEntry(Decimal.SCALE_FIELD, "0");
        assertThat(ColumnSchemas.of("numeric")).isEqualTo(Schema.OPTIONAL_STRING_SCHEMA);
    }

    @Test
    void textTypesAreStrings() {
        for (String t : new String[] {"text", "character varying(20)", "character varying", "character(3)", "name",
                "time with time zone", "interval"}) {
            assertThat(ColumnSchemas.of(t)).as(t).isEqualTo(Schema.OPTIONAL_STRING_SCHEMA);
        }
        assertThat(ColumnSchemas.of("uuid").name()).isEqualTo(ColumnSchemas.UUID);
    }

    @Test
    void temporalTypesAreLogicalTypes() {
        assertThat(ColumnSchemas.of("date").name()).isEqualTo(Date.LOGICAL_NAME);
        assertThat(ColumnSchemas.of("time without time zone").name()).isEqualTo(Time.LOGICAL_NAME);
        assertThat(ColumnSchemas.of("time(3) without time zone").name()).isEqualTo(Time.LOGICAL_NAME);
        assertThat(ColumnSchemas.of("timestamp without time zone").name()).isEqualTo(Timestamp.LOGICAL_NAME);
        assertThat(ColumnSchemas.of("timestamp(3) with time zone").name()).isEqualTo(Timestamp.LOGICAL_NAME);
        assertThat(ColumnSchemas.of("timestamp with time zone").type()).isEqualTo(Schema.Type.INT64);
    }

    @Test
    void jsonIsAStringNamedAsDebeziumNamesIt() {
        assertThat(ColumnSchemas.of("jsonb").name()).isEqualTo("io.debezium.data.Json");
        assertThat(ColumnSchemas.of("json").type()).isEqualTo(Schema.Type.STRING);
    }

    @Test
    void arraysHoldTheirElementSchema() {
        Schema ints = ColumnSchemas.of("integer[]");
        assertThat(ints.type()).isEqualTo(Schema.Type.ARRAY);
        assertThat(ints.valueSchema()).isEqualTo(Schema.OPTIONAL_INT32_SCHEMA);
        assertThat(ColumnSchemas.of("numeric(10,3)[]").valueSchema().name()).isEqualTo(Decimal.LOGICAL_NAME);
        assertThat(ColumnSchemas.of("text[][]").valueSchema()).isEqualTo(Schema.OPTIONAL_STRING_SCHEMA);
    }
}
