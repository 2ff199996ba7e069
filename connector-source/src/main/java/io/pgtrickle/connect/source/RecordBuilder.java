package io.pgtrickle.connect.source;

import io.pgtrickle.format.ChangeEvent;
import io.pgtrickle.format.Headers;
import io.pgtrickle.format.MessageFormat;
import io.pgtrickle.format.Template;
import java.util.Map;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.header.ConnectHeaders;
import org.apache.kafka.connect.source.SourceRecord;

/**
 * Source records of one stream table: key = the row key, value = the format's envelope, headers =
 * change-format's {@link Headers}, source partition {@code {"stream_table": schema.name}}, source
 * offset {@code {"offset": n, "row_index": i}}.
 */
final class RecordBuilder {
    static final String PARTITION_KEY = "stream_table";
    static final String OFFSET_KEY = "offset";
    static final String ROW_INDEX_KEY = "row_index";

    private final TableSchemas schemas;
    private final ValueFormat format;
    private final Schema valueSchema;
    private final Template topics;
    private final Map<String, String> partition;

    RecordBuilder(TableSchemas schemas, ValueFormat format, Template topics) {
        this.schemas = schemas;
        this.format = format;
        this.valueSchema = format.schema(schemas);
        this.topics = topics;
        this.partition = partition(schemas.table());
    }

    static Map<String, String> partition(StreamTable table) {
        return Map.of(PARTITION_KEY, table.id());
    }

    TableSchemas schemas() {
        return schemas;
    }

    Schema valueSchema() {
        return valueSchema;
    }

    SourceRecord build(ChangeEvent e) {
        Struct key = Values.struct(schemas.key(), Values.parse(e.key()));
        Struct before = Values.struct(schemas.row(), Values.parse(e.before()));
        Struct after = Values.struct(schemas.row(), Values.parse(e.after()));
        ConnectHeaders headers = new ConnectHeaders();
        MessageFormat.headers(e).forEach(headers::addString);
        Map<String, Object> offset = Map.of(OFFSET_KEY, e.position().offset(), ROW_INDEX_KEY, e.position().rowIndex());
        Long timestamp = e.committedAt() == null ? null : e.committedAt().toInstant().toEpochMilli();
        return new SourceRecord(partition, offset, topics.expand(schemas.table().id(), e.op()), null, schemas.key(), key,
                valueSchema, format.value(valueSchema, e, key, before, after), timestamp, headers);
    }

    /** Whether the change's images fit the schemas (else the stream table was redefined: reload them). */
    boolean fits(ChangeEvent e) {
        return Values.covers(schemas.row(), Values.parse(e.before())) && Values.covers(schemas.row(), Values.parse(e.after()))
                && Values.covers(schemas.key(), Values.parse(e.key()));
    }
}
