package io.pgtrickle.relay.testing;

import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.format.EncodedMessage;
import io.pgtrickle.format.Headers;
import io.pgtrickle.format.Template;
import io.pgtrickle.relay.target.OutboundMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/** Outbound messages as a forward pipeline makes them, for target tests. */
public final class Changes {
    private Changes() {
    }

    /**
     * Changes number {@code from} to {@code to - 1} of one stream table: change n is at position
     * {@code (n / 3 + 1):(n % 3)} (three changes per outbox entry), its op cycles insert, update,
     * delete, its destination is the template expanded for it.
     */
    public static List<OutboundMessage> range(String streamTable, Template destination, int from, int to) {
        List<OutboundMessage> out = new ArrayList<>();
        for (int n = from; n < to; n++) {
            out.add(change(streamTable, destination, n));
        }
        return out;
    }

    public static OutboundMessage change(String streamTable, Template destination, int n) {
        OutboxPosition position = position(n);
        String op = Template.OPS.get(n % 3);
        String dedupKey = streamTable + ":" + position.offset() + ":" + position.rowIndex();
        EncodedMessage message = new EncodedMessage("{\"id\":" + n + "}", "{\"n\":" + n + ",\"op\":\"" + op + "\"}",
                Map.of(Headers.DEDUP_KEY, dedupKey, Headers.POSITION, position.toString(), Headers.OP, op,
                        Headers.STREAM_TABLE, streamTable));
        return new OutboundMessage(destination.expand(streamTable, op), message, position, dedupKey);
    }

    public static OutboxPosition position(int n) {
        return new OutboxPosition(n / 3 + 1, n % 3);
    }

    /** The change number of a position {@link #position} made. */
    public static int number(OutboxPosition p) {
        return (int) ((p.offset() - 1) * 3 + p.rowIndex());
    }

    public static String suffix() {
        return Long.toString(System.nanoTime() & 0xffffffL, 36) + Integer.toString((int) (Math.random() * 1e6), 36);
    }
}
