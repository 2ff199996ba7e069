package io.pgtrickle.format;


/**
 * Debezium's change event envelope as its JSON converter writes it without schemas:
 * {@code {"before", "after", "source", "op", "ts_ms"}} with {@code op} {@code c}, {@code u} or
 * {@code d}, so that consumers written for Debezium read stream-table deltas unchanged.
 * {@code source} names the stream table ({@code schema}, {@code table}) and carries the outbox
 * position and the refresh id where Debezium has the LSN and the transaction id.
 */
public final class DebeziumFormat implements MessageFormat {
    @Override
    public EncodedMessage encode(ChangeEvent e) {
        long tsMs = e.committedAt() == null ? System.currentTimeMillis() : e.committedAt().toInstant().toEpochMilli();
        int dot = dotOutsideQuotes(e.streamTable());
        String op = switch (e.op()) {
            case "insert" -> "c";
            case "update" -> "u";
            case "delete" -> "d";
            default -> throw new IllegalArgumentException("unknown outbox op " + e.op());
        };
        String value = Json.object(g -> {
            Json.raw(g, "before", e.before());
            Json.raw(g, "after", e.after());
            g.writeObjectFieldStart("source");
            g.writeStringField("connector", "pgtrickle");
            g.writeNumberField("ts_ms", tsMs);
            g.writeStringField("schema", unquote(dot < 0 ? "public" : e.streamTable().substring(0, dot)));
            g.writeStringField("table", unquote(dot < 0 ? e.streamTable() : e.streamTable().substring(dot + 1)));
            g.writeStringField("position", e.position().toString());
            if (e.refreshId() == null) {
                g.writeNullField("refresh_id");
            } else {
                g.writeNumberField("refresh_id", e.refreshId());
            }
            g.writeStringField("snapshot", e.refreshId() == null ? "true" : "false");
            g.writeEndObject();
            g.writeStringField("op", op);
            g.writeNumberField("ts_ms", tsMs);
        });
        return new EncodedMessage(e.key(), value, MessageFormat.headers(e));
    }

    private static int dotOutsideQuotes(String name) {
        boolean quoted = false;
        for (int i = 0; i < name.length(); i++) {
            char ch = name.charAt(i);
            if (ch == '"') {
                quoted = !quoted;
            } else if (ch == '.' && !quoted) {
                return i;
            }
        }
        return -1;
    }

    private static String unquote(String identifier) {
        if (identifier.length() >= 2 && identifier.startsWith("\"") && identifier.endsWith("\"")) {
            return identifier.substring(1, identifier.length() - 1).replace("\"\"", "\"");
        }
        return identifier;
    }
}
