package io.pgtrickle.connect.source;

import io.pgtrickle.format.ChangeEvent;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.SchemaBuilder;
import org.apache.kafka.connect.data.Struct;

/**
 * Debezium's change event envelope, {@code before}, {@code after}, {@code source}, {@code op}
 * ({@code c}, {@code u}, {@code d}), {@code ts_ms}, named {@code <prefix>.Envelope} as Debezium names
 * it, so consumers written for Debezium read stream-table deltas. {@code source} carries the outbox
 * position and the refresh id where Debezium has the LSN and transaction id (as change-format's
 * {@code DebeziumFormat} does for the relay).
 */
final class DebeziumValues implements ValueFormat {
    static final Schema SOURCE = SchemaBuilder.struct().name("io.pgtrickle.connect.source.Source")
            .field("connector", Schema.STRING_SCHEMA)
            .field("ts_ms", Schema.INT64_SCHEMA)
            .field("schema", Schema.STRING_SCHEMA)
            .field("table", Schema.STRING_SCHEMA)
            .field("position", Schema.STRING_SCHEMA)
            .field("refresh_id", Schema.OPTIONAL_INT64_SCHEMA)
            .field("snapshot", Schema.STRING_SCHEMA)
            .build();

    @Override
    public Schema schema(TableSchemas t) {
        return SchemaBuilder.struct().name(t.row().name().replace(".Value", ".Envelope")).version(1)
                .field("before", t.row())
                .field("after", t.row())
                .field("source", SOURCE)
                .field("op", Schema.STRING_SCHEMA)
                .field("ts_ms", Schema.OPTIONAL_INT64_SCHEMA)
                .build();
    }

    @Override
    public Struct value(Schema schema, ChangeEvent e, Struct key, Struct before, Struct after) {
        StreamTable table = StreamTable.ofId(streamTableId(e.streamTable()));
        long tsMs = e.committedAt() == null ? System.currentTimeMillis() : e.committedAt().toInstant().toEpochMilli();
        Struct source = new Struct(SOURCE).put("connector", "pgtrickle").put("ts_ms", tsMs)
                .put("schema", table.schema()).put("table", table.name()).put("position", e.position().toString())
                .put("refresh_id", e.refreshId()).put("snapshot", e.refreshId() == null ? "true" : "false");
        return new Struct(schema).put("before", before).put("after", after).put("source", source)
                .put("op", op(e.op())).put("ts_ms", tsMs);
    }

    static String op(String outboxOp) {
        switch (outboxOp) {
            case "insert":
                return "c";
            case "update":
                return "u";
            case "delete":
                return "d";
            default:
                throw new IllegalArgumentException("unknown outbox op " + outboxOp);
        }
    }

    /** The outbox's quoted {@code "schema"."name"} as {@code schema.name}. */
    static String streamTableId(String quoted) {
        StringBuilder out = new StringBuilder();
        boolean inQuotes = false;
        for (int i = 0; i < quoted.length(); i++) {
            char ch = quoted.charAt(i);
            if (ch == '"') {
                if (inQuotes && i + 1 < quoted.length() && quoted.charAt(i + 1) == '"') {
                    out.append('"');
                    i++;
                } else {
                    inQuotes = !inQuotes;
                }
            } else {
                out.append(ch);
            }
        }
        return out.toString();
    }
}
