package io.pgtrickle.core.publication;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Decodes the messages of PostgreSQL's pgoutput plugin (protocol version 1, text values), as
 * {@code pg_logical_slot_peek_binary_changes} returns them: what a subscriber of a publication
 * receives. Only relations and row changes are kept.
 */
final class PgOutput {
    private PgOutput() {
    }

    /** A relation as the publication describes it: the columns it publishes. */
    record Relation(String schema, String name, List<String> columns) {
    }

    /**
     * One row change.
     *
     * @param op {@code I}, {@code U} or {@code D}
     * @param values the new row (I, U), or the key or old row (D); a NULL or unsent value is {@code null}
     */
    record Change(char op, Relation relation, Map<String, String> values) {
    }

    record Decoded(List<Relation> relations, List<Change> changes) {
    }

    static Decoded decode(List<byte[]> messages) {
        Map<Integer, Relation> relations = new HashMap<>();
        List<Relation> described = new ArrayList<>();
        List<Change> changes = new ArrayList<>();
        for (byte[] message : messages) {
            ByteBuffer b = ByteBuffer.wrap(message);
            char type = (char) b.get();
            switch (type) {
                case 'R' -> {
                    int oid = b.getInt();
                    String schema = string(b);
                    String name = string(b);
                    b.get(); // replica identity setting
                    int n = b.getShort();
                    List<String> columns = new ArrayList<>();
                    for (int i = 0; i < n; i++) {
                        b.get(); // flags: part of the key
                        columns.add(string(b));
                        b.getInt(); // type oid
                        b.getInt(); // type modifier
                    }
                    Relation r = new Relation(schema, name, columns);
                    relations.put(oid, r);
                    described.add(r);
                }
                case 'I' -> {
                    Relation r = relations.get(b.getInt());
                    expect(b, 'N');
                    changes.add(new Change('I', r, tuple(b, r)));
                }
                case 'U' -> {
                    Relation r = relations.get(b.getInt());
                    char next = (char) b.get();
                    if (next == 'K' || next == 'O') {
                        tuple(b, r);
                        next = (char) b.get();
                    }
                    if (next != 'N') {
                        throw new IllegalStateException("update without a new tuple: " + next);
                    }
                    changes.add(new Change('U', r, tuple(b, r)));
                }
                case 'D' -> {
                    Relation r = relations.get(b.getInt());
                    b.get(); // K (key) or O (old row)
                    changes.add(new Change('D', r, tuple(b, r)));
                }
                default -> {
                    // begin, commit, origin, type, truncate: not looked at
                }
            }
        }
        return new Decoded(described, changes);
    }

    private static Map<String, String> tuple(ByteBuffer b, Relation r) {
        int n = b.getShort();
        Map<String, String> values = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            char kind = (char) b.get();
            String value = null;
            if (kind == 't') {
                byte[] bytes = new byte[b.getInt()];
                b.get(bytes);
                value = new String(bytes, StandardCharsets.UTF_8);
            }
            values.put(r.columns().get(i), value);
        }
        return values;
    }

    private static void expect(ByteBuffer b, char wanted) {
        char got = (char) b.get();
        if (got != wanted) {
            throw new IllegalStateException("expected " + wanted + " but got " + got);
        }
    }

    private static String string(ByteBuffer b) {
        int start = b.position();
        while (b.get() != 0) {
            // up to the terminating zero byte
        }
        return new String(b.array(), start, b.position() - start - 1, StandardCharsets.UTF_8);
    }
}
