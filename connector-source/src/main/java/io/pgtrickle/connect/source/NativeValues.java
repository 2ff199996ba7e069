package io.pgtrickle.connect.source;

import io.pgtrickle.format.ChangeEvent;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;
import org.apache.kafka.connect.data.Timestamp;

/**
 * pg_trickle's own value, the fields of change-format's {@code NativeFormat} with Connect schemas:
 * {@code op} (insert, update, delete), {@code key}, {@code before}, {@code after},
 * {@code stream_table}, {@code refresh_id}, {@code position} ({@code <offset>:<row_index>}),
 * {@code committed_at}.
 */
final class NativeValues implements ValueFormat {
    @Override
    public Schema schema(TableSchemas t) {
        return SchemaBuilder.struct().name(t.row().name().replace(".Value", ".Change"))
                .field("op", Schema.STRING_SCHEMA)
                .field("key", t.key())
                .field("before", t.row())
                .field("after", t.row())
                .field("stream_table", Schema.STRING_SCHEMA)
                .field("refresh_id", Schema.OPTIONAL_INT64_SCHEMA)
                .field("position", Schema.STRING_SCHEMA)
                .field("committed_at", Timestamp.builder().optional().build())
                .build();
    }

    @Override
    public Struct value(Schema schema, ChangeEvent e, Struct key, Struct before, Struct after) {
        return new Struct(schema).put("op", e.op()).put("key", key).put("before", before).put("after", after)
                .put("stream_table", e.streamTable()).put("refresh_id", e.refreshId())
                .put("position", e.position().toString())
                .put("committed_at", e.committedAt() == null ? null : java.util.Date.from(e.committedAt().toInstant()));
    }
}
