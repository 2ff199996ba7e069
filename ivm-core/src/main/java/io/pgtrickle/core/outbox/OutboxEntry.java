package io.pgtrickle.core.outbox;

import java.time.OffsetDateTime;
import java.util.Objects;

/**
 * One outbox entry as {@code pgtrickle.poll_outbox} returns it: the delta one refresh of a stream
 * table published.
 *
 * @param offset the entry's position in the outbox; commit it with {@link ConsumerGroups#commit}
 * @param streamTable the stream table, quoted {@code schema.name}
 * @param refreshId the refresh that wrote it ({@code pgt_refresh_history}), or {@code null}
 * @param createdAt when it was written
 * @param fullRefresh whether a FULL refresh wrote it (its changes are still the difference applied)
 * @param inserted rows inserted by the refresh
 * @param updated rows updated
 * @param deleted rows deleted
 * @param rowCount changes in the entry ({@code inserted + updated + deleted})
 * @param inlineChanges the changes as a jsonb array text (row_index, op, key, before, after), or
 *     {@code null} when the delta is large and lives in the side table: page it with
 *     {@code pgtrickle.outbox_changes(offset, after_row_index, page_size)}
 */
public record OutboxEntry(long offset, String streamTable, Long refreshId, OffsetDateTime createdAt, boolean fullRefresh,
                          long inserted, long updated, long deleted, long rowCount, String inlineChanges) {
    public OutboxEntry {
        Objects.requireNonNull(streamTable, "streamTable");
        Objects.requireNonNull(createdAt, "createdAt");
    }

    /** Whether the changes are in {@link #inlineChanges()}; otherwise page them from the side table. */
    public boolean changesInline() {
        return inlineChanges != null;
    }

    /**
     * The identity of one published change, {@code <stream_table>:<offset>:<row_index>} (DESIGN
     * §3): targets use it to refuse a repeat.
     */
    public String dedupKey(int rowIndex) {
        if (rowIndex < 0) {
            throw new IllegalArgumentException("row_index starts at 0, got " + rowIndex);
        }
        return streamTable + ":" + offset + ":" + rowIndex;
    }
}
