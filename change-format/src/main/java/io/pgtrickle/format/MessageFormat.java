package io.pgtrickle.format;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Encodes a change for a target. Every format uses the row key as the record key, so that one key's
 * changes stay in order within a partition, and sets the same headers ({@link Headers}).
 */
public interface MessageFormat {
    EncodedMessage encode(ChangeEvent event);

    static MessageFormat of(FormatName name) {
        return switch (name) {
            case NATIVE -> new NativeFormat();
            case DEBEZIUM -> new DebeziumFormat();
        };
    }

    /** The headers every format sets. */
    static Map<String, String> headers(ChangeEvent event) {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put(Headers.DEDUP_KEY, event.dedupKey());
        headers.put(Headers.POSITION, event.position().toString());
        headers.put(Headers.OP, event.op());
        headers.put(Headers.STREAM_TABLE, event.streamTable());
        if (event.refreshId() != null) {
            headers.put(Headers.REFRESH_ID, event.refreshId().toString());
        }
        return headers;
    }
}
