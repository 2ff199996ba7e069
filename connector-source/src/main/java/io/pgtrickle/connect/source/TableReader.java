package io.pgtrickle.connect.source;

import io.pgtrickle.core.outbox.OutboxChange;
import io.pgtrickle.core.outbox.OutboxDelta;
import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.core.outbox.Outboxes;
import io.pgtrickle.format.ChangeEvent;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.function.Supplier;
import org.apache.kafka.connect.source.SourceRecord;
import org.apache.kafka.connect.source.TransactionContext;

/**
 * Reads one stream table's outbox from a position on, whole entries at a time, and hands out their
 * changes as records, at most as many as asked for: a cursor stays inside an entry between polls.
 * The last record of each entry ends a Kafka transaction when the connector defines them, so one
 * refresh is one transaction.
 */
final class TableReader {
    /** Entries fetched per read: the outbox returns whole entries, so keep it small. */
    private static final int ENTRIES_PER_READ = 4;

    private final StreamTable table;
    private final Outboxes outboxes;
    private final Supplier<RecordBuilder> reload;
    private final Deque<OutboxDelta> entries = new ArrayDeque<>();
    private RecordBuilder builder;
    /** The last change handed out (or stored as the source offset). */
    private OutboxPosition last;
    private long readAfter;
    private int index;

    /**
     * @param resumeAfter the stored source offset, or {@link OutboxPosition#START}
     * @param reload derives the schemas again (at start, and when the images no longer fit them)
     */
    TableReader(StreamTable table, Outboxes outboxes, OutboxPosition resumeAfter, Supplier<RecordBuilder> reload) {
        this.table = table;
        this.outboxes = outboxes;
        this.reload = reload;
        this.builder = reload.get();
        this.last = resumeAfter;
        // Read the stored entry again: its remaining changes (if any) are skipped by position.
        this.readAfter = Math.max(0, resumeAfter.offset() - 1);
    }

    StreamTable table() {
        return table;
    }

    /** Whether the reader is inside an entry: the next poll must go on with it to keep the transaction whole. */
    boolean midEntry() {
        return !entries.isEmpty() && index > 0;
    }

    /**
     * Adds up to {@code max} records to {@code out}, from the current entry and then the next ones.
     *
     * @return whether the outbox had nothing more to give now
     */
    boolean fill(List<SourceRecord> out, int max, TransactionContext transactions) {
        int added = 0;
        while (added < max) {
            if (entries.isEmpty()) {
                List<OutboxDelta> read = outboxes.read(table.sqlName(), readAfter, ENTRIES_PER_READ);
                if (read.isEmpty()) {
                    return true;
                }
                entries.addAll(read);
                readAfter = read.get(read.size() - 1).offset();
                index = 0;
            }
            OutboxDelta entry = entries.peekFirst();
            List<OutboxChange> changes = entry.changes();
            while (index < changes.size() && added < max) {
                OutboxChange change = changes.get(index++);
                if (!last.isBefore(entry.offset(), change.rowIndex())) {
                    continue; // published before the restart
                }
                ChangeEvent event = ChangeEvent.of(entry, change);
                if (!builder.fits(event)) {
                    builder = reload.get();
                }
                SourceRecord record = builder.build(event);
                out.add(record);
                added++;
                last = event.position();
                if (index == changes.size() && transactions != null) {
                    transactions.commitTransaction(record);
                }
            }
            if (index == changes.size()) {
                entries.removeFirst();
                index = 0;
            }
        }
        return false;
    }
}
