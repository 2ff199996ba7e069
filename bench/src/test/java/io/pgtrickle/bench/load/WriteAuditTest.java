package io.pgtrickle.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.bench.load.WriteAudit.BufferEvent;
import io.pgtrickle.bench.load.WriteAudit.Delivery;
import io.pgtrickle.bench.load.WriteAudit.Evidence;
import io.pgtrickle.bench.load.WriteAudit.WriterTransaction;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Synthetic evidence for one writer transaction, xid 36430 writing order 7, and the kind each story gets. */
class WriteAuditTest {
    private static final long XID = 36430;
    private static final long ORDER = 7;
    /** What the epoch bug made of xid 36430: the same 32 bits, a wrong epoch. */
    private static final long WRONG_XID = Long.parseUnsignedLong("18446744069414620238");
    private static final WriterTransaction TX = new WriterTransaction(XID, new long[] {ORDER});
    private static final Snapshot FRONTIER_PAST_IT = Snapshot.parse("40000:40000:");
    private static final Delivery DELIVERED = new Delivery(ORDER, XID, XID);
    private static final BufferEvent BUFFERED = new BufferEvent(ORDER, XID, true, false);
    private static final BufferEvent CLEANED = new BufferEvent(ORDER, XID, false, true);

    private static Optional<LostWrite> classify(int copies, List<Delivery> deliveries, List<BufferEvent> events,
                                                Snapshot frontier) {
        return WriteAudit.classify(new Evidence(TX, Map.of(ORDER, copies), deliveries, events, frontier, true));
    }

    private static LostWrite.Kind kind(int copies, List<Delivery> deliveries, List<BufferEvent> events) {
        return classify(copies, deliveries, events, FRONTIER_PAST_IT).orElseThrow().kind();
    }

    @Test
    void anOrderPresentOnceIsNoFinding() {
        assertThat(classify(1, List.of(DELIVERED), List.of(BUFFERED, CLEANED), FRONTIER_PAST_IT)).isEmpty();
    }

    @Test
    void nothingDeliveredIsNeverDelivered() {
        assertThat(kind(0, List.of(), List.of())).isEqualTo(LostWrite.Kind.NEVER_DELIVERED);
    }

    @Test
    void deliveredWithoutABufferRowIsNotBuffered() {
        LostWrite f = classify(0, List.of(DELIVERED), List.of(), FRONTIER_PAST_IT).orElseThrow();

        assertThat(f.kind()).isEqualTo(LostWrite.Kind.NOT_BUFFERED);
        assertThat(f.doubled()).isFalse();
        assertThat(f.detail()).contains("txId 36430 as xid8 36430");
    }

    @Test
    void theEpochBugIsBufferedUnderAnotherXid() {
        LostWrite f = classify(0, List.of(new Delivery(ORDER, XID, WRONG_XID)),
                List.of(new BufferEvent(ORDER, WRONG_XID, true, true)), FRONTIER_PAST_IT).orElseThrow();

        assertThat(f.kind()).isEqualTo(LostWrite.Kind.BUFFERED_UNDER_ANOTHER_XID);
        assertThat(f.detail()).startsWith("xid 36430 buffered as 18446744069414620238 (Debezium txId 36430)");
    }

    @Test
    void aRowThatArrivedAfterTheFrontierPassedItIsOutsideEveryWindow() {
        LostWrite f = classify(0, List.of(DELIVERED), List.of(new BufferEvent(ORDER, XID, true, true)),
                FRONTIER_PAST_IT).orElseThrow();

        assertThat(f.kind()).isEqualTo(LostWrite.Kind.OUTSIDE_EVERY_WINDOW);
        assertThat(f.detail()).contains("after load_join's frontier had passed its xid");
    }

    @Test
    void aRowDeletedBeforeTheReaderSawItsXidIsCleanedBeforeUse() {
        assertThat(kind(0, List.of(DELIVERED), List.of(BUFFERED, new BufferEvent(ORDER, XID, false, false))))
                .isEqualTo(LostWrite.Kind.CLEANED_BEFORE_USE);
    }

    @Test
    void aRowCleanedOnlyAfterTheReaderPassedItIsOutsideEveryWindow() {
        assertThat(kind(0, List.of(DELIVERED), List.of(BUFFERED, CLEANED)))
                .isEqualTo(LostWrite.Kind.OUTSIDE_EVERY_WINDOW);
    }

    @Test
    void aTransactionTheFinalFrontierDoesNotIncludeIsUnexplained() {
        LostWrite f = classify(0, List.of(DELIVERED), List.of(BUFFERED), Snapshot.parse("30000:30000:"))
                .orElseThrow();

        assertThat(f.kind()).isEqualTo(LostWrite.Kind.UNEXPLAINED);
        assertThat(f.detail()).contains("not in load_join's final frontier");
    }

    @Test
    void aDoubledOrderBufferedUnderTwoXidsIsBufferedUnderAnotherXid() {
        LostWrite f = classify(2, List.of(DELIVERED), List.of(BUFFERED, new BufferEvent(ORDER, WRONG_XID, true,
                false)), FRONTIER_PAST_IT).orElseThrow();

        assertThat(f.kind()).isEqualTo(LostWrite.Kind.BUFFERED_UNDER_ANOTHER_XID);
        assertThat(f.doubled()).isTrue();
    }

    @Test
    void aDoubledOrderBufferedOnceUnderItsOwnXidIsUnexplained() {
        LostWrite f = classify(2, List.of(DELIVERED), List.of(BUFFERED), FRONTIER_PAST_IT).orElseThrow();

        assertThat(f.kind()).isEqualTo(LostWrite.Kind.UNEXPLAINED);
        assertThat(f.doubled()).isTrue();
    }

    @Test
    void triggerCaptureHasNoDeliveriesSoAMissingBufferRowIsNotBuffered() {
        LostWrite f = WriteAudit.classify(new Evidence(TX, Map.of(ORDER, 0), List.of(), List.of(), FRONTIER_PAST_IT,
                false)).orElseThrow();

        assertThat(f.kind()).isEqualTo(LostWrite.Kind.NOT_BUFFERED);
    }
}
