package io.pgtrickle.format;


/**
 * pg_trickle's own JSON: {@code {"op", "key", "before", "after", "stream_table", "refresh_id",
 * "position", "committed_at"}}, with {@code key}, {@code before} and {@code after} as JSON objects
 * of the stream table's columns.
 */
public final class NativeFormat implements MessageFormat {
    @Override
    public EncodedMessage encode(ChangeEvent e) {
        String value = Json.object(g -> {
            g.writeStringField("op", e.op());
            Json.raw(g, "key", e.key());
            Json.raw(g, "before", e.before());
            Json.raw(g, "after", e.after());
            g.writeStringField("stream_table", e.streamTable());
            if (e.refreshId() == null) {
                g.writeNullField("refresh_id");
            } else {
                g.writeNumberField("refresh_id", e.refreshId());
            }
            g.writeStringField("position", e.position().toString());
            g.writeStringField("committed_at", e.committedAt() == null ? null : e.committedAt().toString());
        });
        return new EncodedMessage(e.key(), value, MessageFormat.headers(e));
    }
}
