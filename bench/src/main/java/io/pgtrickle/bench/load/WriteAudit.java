package io.pgtrickle.bench.load;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

/**
 * Decides, for one writer transaction, whether {@code load_join} reflects it exactly once per
 * order, and if not, which {@link LostWrite.Kind} the evidence points to. Pure logic: the
 * evidence is gathered by {@link LoadAudit}.
 */
final class WriteAudit {
    private WriteAudit() {
    }

    /** A transaction as its writer saw it commit. */
    record WriterTransaction(long xid, long[] orderIds) {
    }

    /** What WAL capture delivered for an order: Debezium's 32-bit txId and the xid8 it was buffered under. */
    record Delivery(long orderId, long txId32, long xid8) {
    }

    /**
     * A buffer row of an order being inserted or deleted (the audit trigger's log).
     *
     * @param readerSaw whether {@code load_join}'s frontier, as the inserting or deleting transaction
     *     saw it, already included {@code xid8}
     */
    record BufferEvent(long orderId, long xid8, boolean inserted, boolean readerSaw) {
    }

    /**
     * Everything known about one transaction's orders.
     *
     * @param copies how many rows {@code load_join} holds per order id of the transaction
     * @param deliveriesObserved false in trigger capture, which has no delivery to observe
     */
    record Evidence(WriterTransaction tx, Map<Long, Integer> copies, List<Delivery> deliveries,
                    List<BufferEvent> bufferEvents, Snapshot finalFrontier, boolean deliveriesObserved) {
    }

    static Optional<LostWrite> classify(Evidence e) {
        long xid = e.tx().xid();
        long[] missing = ids(e, n -> n == 0);
        long[] doubled = ids(e, n -> n > 1);
        if (missing.length == 0 && doubled.length == 0) {
            return Optional.empty();
        }
        boolean isDoubled = missing.length == 0;
        long[] affected = isDoubled ? doubled : missing;
        List<Delivery> deliveries = e.deliveries().stream().filter(d -> contains(affected, d.orderId())).toList();
        List<BufferEvent> inserts = e.bufferEvents().stream()
                .filter(b -> b.inserted() && contains(affected, b.orderId())).toList();
        String orders = "order" + (affected.length == 1 ? " " : "s ") + text(affected);
        String otherXids = inserts.stream().map(BufferEvent::xid8).filter(x -> x != xid).distinct()
                .map(Long::toUnsignedString).collect(Collectors.joining(", "));
        String txIds = deliveries.stream().map(Delivery::txId32).distinct().map(String::valueOf)
                .collect(Collectors.joining(", "));
        if (!otherXids.isEmpty()) {
            return found(LostWrite.Kind.BUFFERED_UNDER_ANOTHER_XID, xid, isDoubled, "xid " + xid + " buffered as "
                    + otherXids + (txIds.isEmpty() ? "" : " (Debezium txId " + txIds + ")") + ", " + orders);
        }
        if (isDoubled) {
            return found(LostWrite.Kind.UNEXPLAINED, xid, true, "xid " + xid + ": " + orders + " more than once in"
                    + " load_join, though buffered " + inserts.size() + " time(s), each under its own xid");
        }
        if (e.deliveriesObserved() && deliveries.isEmpty()) {
            return found(LostWrite.Kind.NEVER_DELIVERED, xid, false, "xid " + xid + ": capture never delivered "
                    + orders);
        }
        if (inserts.isEmpty()) {
            String delivered = deliveries.stream().map(d -> "txId " + d.txId32() + " as xid8 "
                    + Long.toUnsignedString(d.xid8())).distinct().collect(Collectors.joining(", "));
            return found(LostWrite.Kind.NOT_BUFFERED, xid, false, "xid " + xid + ": " + orders + " delivered"
                    + (delivered.isEmpty() ? "" : " (" + delivered + ")") + " but never in the buffer");
        }
        if (!e.finalFrontier().sees(xid)) {
            return found(LostWrite.Kind.UNEXPLAINED, xid, false, "xid " + xid + ": buffered, but not in load_join's"
                    + " final frontier (the run ended before it became visible)");
        }
        boolean deletedEarly = e.bufferEvents().stream()
                .anyMatch(b -> !b.inserted() && !b.readerSaw() && contains(affected, b.orderId()));
        if (deletedEarly) {
            return found(LostWrite.Kind.CLEANED_BEFORE_USE, xid, false, "xid " + xid + ": the buffer row of " + orders
                    + " was deleted while load_join's frontier did not include it yet");
        }
        boolean arrivedLate = inserts.stream().allMatch(BufferEvent::readerSaw);
        return found(LostWrite.Kind.OUTSIDE_EVERY_WINDOW, xid, false, "xid " + xid + ": " + orders + (arrivedLate
                ? " reached the buffer after load_join's frontier had passed its xid"
                : " was in the buffer under its own xid before load_join's frontier passed it, yet not applied"));
    }

    private static Optional<LostWrite> found(LostWrite.Kind kind, long xid, boolean doubled, String detail) {
        return Optional.of(new LostWrite(kind, xid, doubled, detail));
    }

    private static long[] ids(Evidence e, java.util.function.IntPredicate copies) {
        return Arrays.stream(e.tx().orderIds()).filter(id -> copies.test(e.copies().getOrDefault(id, 0))).toArray();
    }

    private static boolean contains(long[] ids, long id) {
        return LongStream.of(ids).anyMatch(i -> i == id);
    }

    /** Up to three ids, then how many more. */
    private static String text(long[] ids) {
        String shown = LongStream.of(ids).limit(3).mapToObj(Long::toString).collect(Collectors.joining(", "));
        return ids.length > 3 ? shown + " and " + (ids.length - 3) + " more" : shown;
    }
}
