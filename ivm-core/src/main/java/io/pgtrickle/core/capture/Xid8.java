package io.pgtrickle.core.capture;

/**
 * Widening of the 32-bit transaction ids that logical decoding reports into the 64-bit
 * {@code xid8} that snapshots and change buffers use.
 *
 * <p>The widened id is the {@code xid8} nearest to a reference {@code xid8} (PostgreSQL's own
 * {@code FullXidRelativeTo}). That is exact for any reference taken while the transaction could
 * still be decoded: PostgreSQL keeps every live or recently ended xid within 2^31 of the next one
 * (wraparound protection), so the distance between the two is always below 2^31, in either
 * direction. It makes no assumption about which side of the reference the xid lies on — which
 * matters, because a transaction's commit record is flushed and can be decoded before the
 * transaction leaves the proc array, so its xid can be at or above a snapshot's {@code xmax}.
 */
final class Xid8 {
    /** PostgreSQL's FirstNormalTransactionId: xids 0–2 are never assigned to a transaction. */
    static final long FIRST_NORMAL = 3;
    private static final long LOW_HALF = 0xFFFF_FFFFL;

    private Xid8() {
    }

    /**
     * The {@code xid8} of {@code xid32} nearest to {@code reference}.
     *
     * @throws IllegalArgumentException when {@code xid32} is not a 32-bit xid
     * @throws IllegalStateException when the result cannot be a transaction's id (before the first
     *     normal xid), which means the reference does not belong to this server
     */
    static long widen(long xid32, long reference) {
        if (xid32 < 0 || xid32 > LOW_HALF) {
            throw new IllegalArgumentException("not a 32-bit transaction id: " + xid32);
        }
        if (reference < 0) {
            throw new IllegalArgumentException("not an xid8: " + reference);
        }
        // The signed 32-bit distance from the reference's low half; the cast folds it into ±2^31.
        long full = reference + (int) (xid32 - (reference & LOW_HALF));
        if (full < FIRST_NORMAL) {
            throw new IllegalStateException("transaction id " + xid32 + " cannot be widened against reference xid8 "
                    + reference + ": the result " + full + " is not a valid xid8");
        }
        return full;
    }
}
