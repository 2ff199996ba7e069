package io.pgtrickle.core.capture;

import io.pgtrickle.core.sql.QualifiedName;
import java.util.List;

/**
 * Sees every row change that WAL capture delivered to a tracked source's buffer, with the 32-bit
 * xid Debezium reported and the {@code xid8} it was buffered under. For audits and diagnostics
 * (the load benchmark's {@code --audit}); it is called on the capture thread after the batch has
 * committed, before the batch is acknowledged, so it must be quick and must not throw.
 */
@FunctionalInterface
public interface CaptureObserver {
    CaptureObserver NONE = changes -> { };

    /** One batch's changes, in delivery order. */
    void delivered(List<Delivered> changes);

    /**
     * A row change as offered to the buffer: replays and changes of transactions that committed
     * before tracking began are offered too (and then not written again).
     *
     * @param weight +1 new image, −1 old image, 0 TRUNCATE
     * @param row the image as jsonb text, or null for a TRUNCATE
     */
    record Delivered(QualifiedName table, long txId32, long xid8, short weight, String row) {
    }
}
