package io.pgtrickle.format;

import com.fasterxml.jackson.databind.node.ObjectNode;

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
        ObjectNode value = Json.MAPPER.createObjectNode();
        value.set("before", Json.tree(e.before()));
        value.set("after", Json.tree(e.after()));
        long tsMs = e.committedAt() == null ? System.currentTimeMillis() : e.committedAt().toInstant().toEpochMilli();
        ObjectNode source = value.putObject("source");
        source.put("connector", "pgtrickle");
        source.put("ts_ms", tsMs);
        int dot = dotOutsideQuotes(e.streamTable());
        source.put("schema", unquote(dot < 0 ? "public" : e.streamTable().substring(0, dot)));
        source.put("table", unquote(dot < 0 ? e.streamTable() : e.streamTable().substring(dot + 1)));
        source.put("position", e.position().toString());
        if (e.refreshId() == null) {
            source.putNull("refresh_id");
        } else {
            source.put("refresh_id", e.refreshId());
        }
        source.put("snapshot", e.refreshId() == null ? "true" : "false");
        value.put("op", switch (e.op()) {
            case "insert" -> "c";
            case "update" -> "u";
            case "delete" -> "d";
            default -> throw new IllegalArgumentException("unknown outbox op " + e.op());
        });
        value.put("ts_ms", tsMs);
        return new EncodedMessage(e.key(), Json.text(value), MessageFormat.headers(e));
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
