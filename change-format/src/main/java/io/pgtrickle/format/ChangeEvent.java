package io.pgtrickle.format;

import io.pgtrickle.core.outbox.OutboxChange;
import io.pgtrickle.core.outbox.OutboxDelta;
import io.pgtrickle.core.outbox.OutboxHeader;
import io.pgtrickle.core.outbox.OutboxPosition;
import java.time.OffsetDateTime;
import java.util.Objects;

/**
 * One row-level change of a stream table as the relay publishes it: an outbox change with its
 * entry's coordinates.
 *
 * @param streamTable quoted {@code schema.name}
 * @param refreshId the refresh that produced it, or {@code null} for the starting contents
 * @param position where it is in the outbox
 * @param committedAt when the refresh wrote its entry
 * @param op {@code insert}, {@code update} or {@code delete}
 * @param key JSON text of the row key
 * @param before JSON text of the old row, {@code null} for an insert
 * @param after JSON text of the new row, {@code null} for a delete
 */
public record ChangeEvent(String streamTable, Long refreshId, OutboxPosition position, OffsetDateTime committedAt,
                          String op, String key, String before, String after) {
    public ChangeEvent {
        Objects.requireNonNull(streamTable, "streamTable");
        Objects.requireNonNull(position, "position");
        Objects.requireNonNull(op, "op");
    }

    /** A change of an entry read whole ({@code Outboxes.read}). */
    public static ChangeEvent of(OutboxDelta entry, OutboxChange change) {
        return new ChangeEvent(entry.streamTable(), entry.refreshId(), new OutboxPosition(entry.offset(), change.rowIndex()),
                entry.createdAt(), change.op(), change.key(), change.before(), change.after());
    }

    /** A change of an entry read in pages ({@code Outboxes.headers}, then {@code Outboxes.changes}). */
    public static ChangeEvent of(OutboxHeader entry, OutboxChange change) {
        return new ChangeEvent(entry.streamTable(), entry.refreshId(), new OutboxPosition(entry.offset(), change.rowIndex()),
                entry.createdAt(), change.op(), change.key(), change.before(), change.after());
    }

    /** The change's identity, {@code <stream_table>:<offset>:<row_index>}: targets refuse a repeat of it. */
    public String dedupKey() {
        return streamTable + ":" + position.offset() + ":" + position.rowIndex();
    }
}
