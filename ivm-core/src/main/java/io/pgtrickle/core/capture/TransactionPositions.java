package io.pgtrickle.core.capture;

/**
 * The position of each event within its transaction, counted by the ingester instead of taken
 * from Debezium's transaction metadata ({@code provide.transaction.metadata}), which costs two
 * extra records per transaction — a BEGIN and an END — on Debezium's single decoding thread: for
 * one-row transactions three records per change.
 *
 * <p>The count is the one Debezium's {@code TransactionMonitor} made for {@code total_order}:
 * 1 for the first event of a transaction, one more for each following event (row changes and
 * transactional logical messages alike), a new transaction beginning where the transaction id
 * changes. So buffer keys written before this class existed are met again identically on replay.
 *
 * <p>Why the count is the same on every delivery of a transaction: pgoutput (without streaming of
 * in-progress transactions, which Debezium does not ask for) sends each transaction whole, in
 * commit order, never interleaved with another. Every start of Debezium resumes at a transaction's
 * beginning: offsets are kept in memory only and are new with each Debezium engine, and a new
 * engine gets a new ingester, hence a new instance of this class; the slot then sends whole
 * transactions from its confirmed position. Within one engine there is no resumption (capture
 * retries nothing itself: {@code errors.max.retries = 0}). A transaction split over two batches
 * continues its count in the next batch, since an instance lives as long as its ingester; and a
 * batch that failed is counted again from where it began ({@link #mark}, {@link #reset}), should
 * it be handed to the same ingester once more.
 *
 * <p>Not thread-safe: Debezium calls the ingester from one thread.
 */
final class TransactionPositions {
    private long xid = -1;
    private long position;

    /** Where the count stands, to {@link #reset} to when a batch fails. */
    record Mark(long xid, long position) {
    }

    Mark mark() {
        return new Mark(xid, position);
    }

    void reset(Mark mark) {
        xid = mark.xid();
        position = mark.position();
    }

    /** The position (from 1) of the next event, which belongs to transaction {@code xid32}. */
    long next(long xid32) {
        if (xid32 != xid) {
            xid = xid32;
            position = 0;
        }
        return ++position;
    }
}
