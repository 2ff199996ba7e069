package io.pgtrickle.format;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * pg_trickle's own JSON: {@code {"op", "key", "before", "after", "stream_table", "refresh_id",
 * "position", "committed_at"}}, with {@code key}, {@code before} and {@code after} as JSON objects
 * of the stream table's columns.
 */
public final class NativeFormat implements MessageFormat {
    @Override
    public EncodedMessage encode(ChangeEvent e) {
        ObjectNode value = Json.MAPPER.createObjectNode();
        value.put("op", e.op());
        value.set("key", Json.tree(e.key()));
        value.set("before", Json.tree(e.before()));
        value.set("after", Json.tree(e.after()));
        value.put("stream_table", e.streamTable());
        if (e.refreshId() == null) {
            value.putNull("refresh_id");
        } else {
            value.put("refresh_id", e.refreshId());
        }
        value.put("position", e.position().toString());
        value.put("committed_at", e.committedAt() == null ? null : e.committedAt().toString());
        return new EncodedMessage(e.key(), Json.text(value), MessageFormat.headers(e));
    }
}
