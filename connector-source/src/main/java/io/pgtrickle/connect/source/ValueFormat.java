package io.pgtrickle.connect.source;

import io.pgtrickle.format.ChangeEvent;
import io.pgtrickle.format.FormatName;
import org.apache.kafka.connect.data.Schema;
import org.apache.kafka.connect.data.Struct;

/** How a record's value is laid out: one implementation per {@code format}. */
interface ValueFormat {
    /** The value schema of the records of one stream table. */
    Schema schema(TableSchemas table);

    /** The value of one change; {@code key}, {@code before}, {@code after} are already converted (null when absent). */
    Struct value(Schema schema, ChangeEvent change, Struct key, Struct before, Struct after);

    static ValueFormat of(FormatName name) {
        return name == FormatName.DEBEZIUM ? new DebeziumValues() : new NativeValues();
    }
}
