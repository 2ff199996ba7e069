package io.pgtrickle.connect.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.format.ChangeEvent;
import io.pgtrickle.format.FormatName;
import io.pgtrickle.format.Template;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.Header;
import org.apache.kafka.connect.json.JsonConverter;
import org.apache.kafka.connect.source.SourceRecord;
import org.junit.jupiter.api.Test;

class RecordBuilderTest {
    private static final StreamTable TABLE = new StreamTable("public", "order_totals", true);
    private static final List<Column> COLUMNS = List.of(Column.of("k", "integer"), Column.of("total", "numeric(12,2)"),
            Column.of("at", "timestamp with time zone"), Column.of("doc", "jsonb"), Column.of("tags", "integer[]"),
            Column.of("name", "text"), Column.of("day", "date"), Column.of("raw", "bytea"), Column.of("free", "numeric"),
            Column.of("local", "timestamp without time zone"), Column.of("t", "time without time zone"),
            Column.of("ok", "boolean"), Column.of("f", "double precision"));
    private static final TableSchemas SCHEMAS = TableSchemas.of(TABLE, COLUMNS, List.of(COLUMNS.get(0)));
    private static final OffsetDateTime COMMITTED = OffsetDateTime.of(2026, 12, 2, 20, 0, 0, 0, ZoneOffset.UTC);
    private static final String AFTER = "{\"k\": 7, \"total\": 12.50, \"at\": \"2026-12-02T21:50:24.123456+01:00\","
            + " \"doc\": {\"a\": [1, 2]}, \"tags\": [1, 2, 3], \"name\": \"x\", \"day\": \"2026-12-02\", \"raw\": \"\\\\x01ff\","
            + " \"free\": 1.000000000000000000001, \"local\": \"2026-12-02T20:50:24\", \"t\": \"01:02:03.5\", \"ok\": true,"
            + " \"f\": 1.5}";
    private static final ChangeEvent UPDATE = new ChangeEvent("\"public\".\"order_totals\"", 42L, new OutboxPosition(17, 3),
            COMMITTED, "update", "{\"k\": 7}", "{\"k\": 7, \"total\": 2.5}", AFTER);

    private static SourceRecord build(FormatName format, ChangeEvent e) {
        return new RecordBuilder(SCHEMAS, ValueFormat.of(format), new Template("pgtrickle.{stream_table}.{op}")).build(e);
    }

    @Test
    void theNativeRecordCarriesKeyImagesPositionHeadersAndOffsets() {
        SourceRecord r = build(FormatName.NATIVE, UPDATE);
        assertThat(r.topic()).isEqualTo("pgtrickle.public.order_totals.update");
        assertThat(r.sourcePartition()).isEqualTo(Map.of("stream_table", "public.order_totals"));
        assertThat(r.sourceOffset()).isEqualTo(Map.of("offset", 17L, "row_index", 3));
        assertThat(((Struct) r.key()).getInt32("k")).isEqualTo(7);
        assertThat(r.timestamp()).isEqualTo(COMMITTED.toInstant().toEpochMilli());
        Struct v = (Struct) r.value();
        v.validate();
        assertThat(v.getString("op")).isEqualTo("update");
        assertThat(v.getString("position")).isEqualTo("17:3");
        assertThat(v.getInt64("refresh_id")).isEqualTo(42L);
        assertThat(v.getString("stream_table")).isEqualTo("\"public\".\"order_totals\"");
        assertThat(v.getStruct("before").get("total")).isEqualTo(new BigDecimal("2.50"));
        Struct after = v.getStruct("after");
        assertThat(after.get("total")).isEqualTo(new BigDecimal("12.50"));
        assertThat(after.get("at")).isEqualTo(java.util.Date.from(Instant.parse("2026-12-02T20:50:24.123Z")));
        assertThat(after.get("local")).isEqualTo(java.util.Date.from(Instant.parse("2026-12-02T20:50:24Z")));
        assertThat(after.get("day")).isEqualTo(java.util.Date.from(Instant.parse("2026-12-02T00:00:00Z")));
        assertThat(after.get("t")).isEqualTo(new java.util.Date(3_723_500));
        assertThat(after.getString("doc")).isEqualTo("{\"a\":[1,2]}");
        assertThat(after.getArray("tags")).containsExactly(1, 2, 3);
        assertThat(after.getBytes("raw")).containsExactly(1, 0xff);
        assertThat(after.getString("free")).isEqualTo("1.000000000000000000001");
        assertThat(after.getBoolean("ok")).isTrue();
        assertThat(after.getFloat64("f")).isEqualTo(1.5);
        assertThat(r.headers()).extracting(Header::key).containsExactly("dedup_key", "pgt_position", "op", "stream_table",
                "refresh_id");
        assertThat(r.headers().lastWithName("dedup_key").value()).isEqualTo("\"public\".\"order_totals\":17:3");
    }

    @Test
    void theDebeziumRecordIsDebeziumsEnvelope() {
        ChangeEvent delete = new ChangeEvent("\"public\".\"order_totals\"", null, new OutboxPosition(5, 0), COMMITTED, "delete",
                "{\"k\": 7}", AFTER, null);
        SourceRecord r = build(FormatName.DEBEZIUM, delete);
        Struct v = (Struct) r.value();
        v.validate();
        assertThat(r.valueSchema().name()).isEqualTo("pgtrickle.public.order_totals.Envelope");
        assertThat(v.getString("op")).isEqualTo("d");
        assertThat(v.get("after")).isNull();
        assertThat(v.getStruct("before").getInt32("k")).isEqualTo(7);
        Struct source = v.getStruct("source");
        assertThat(source.getString("schema")).isEqualTo("public");
        assertThat(source.getString("table")).isEqualTo("order_totals");
        assertThat(source.getString("position")).isEqualTo("5:0");
        assertThat(source.getString("snapshot")).isEqualTo("true");
        assertThat(v.getInt64("ts_ms")).isEqualTo(COMMITTED.toInstant().toEpochMilli());
        assertThat(build(FormatName.DEBEZIUM, UPDATE).value()).extracting(x -> ((Struct) x).getString("op")).isEqualTo("u");
    }

    @Test
    void theJsonConverterWritesSchemasOfTheColumnTypes() throws Exception {
        SourceRecord r = build(FormatName.NATIVE, UPDATE);
        JsonConverter converter = new JsonConverter();
        converter.configure(Map.of("schemas.enable", "true"), false);
        JsonNode json = new ObjectMapper().readTree(converter.fromConnectData(r.topic(), r.valueSchema(), r.value()));
        JsonNode after = field(json.path("schema"), "after");
        assertThat(field(after, "total").path("name").asText()).isEqualTo("org.apache.kafka.connect.data.Decimal");
        assertThat(field(after, "total").path("parameters").path("scale").asText()).isEqualTo("2");
        assertThat(field(after, "at").path("name").asText()).isEqualTo("org.apache.kafka.connect.data.Timestamp");
        assertThat(field(after, "at").path("type").asText()).isEqualTo("int64");
        assertThat(field(after, "doc").path("name").asText()).isEqualTo("io.debezium.data.Json");
        assertThat(field(after, "tags").path("type").asText()).isEqualTo("array");
        assertThat(field(after, "tags").path("items").path("type").asText()).isEqualTo("int32");
        assertThat(json.path("payload").path("after").path("tags").toString()).isEqualTo("[1,2,3]");
    }

    @Test
    void imagesWithAnUnknownColumnDoNotFit() {
        RecordBuilder b = new RecordBuilder(SCHEMAS, ValueFormat.of(FormatName.NATIVE), new Template("t"));
        assertThat(b.fits(UPDATE)).isTrue();
        assertThat(b.fits(new ChangeEvent("x", 1L, new OutboxPosition(1, 0), COMMITTED, "insert", "{\"k\": 1}", null,
                "{\"k\": 1, \"added\": 2}"))).isFalse();
    }

    static JsonNode field(JsonNode struct, String name) {
        for (JsonNode f : struct.path("fields")) {
            if (f.path("field").asText().equals(name)) {
                return f;
            }
        }
        throw new AssertionError("no field " + name + " in " + struct);
    }
}
