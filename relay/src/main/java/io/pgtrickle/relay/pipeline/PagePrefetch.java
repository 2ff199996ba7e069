package io.pgtrickle.relay.pipeline;

import io.pgtrickle.core.outbox.OutboxChange;
import io.pgtrickle.core.outbox.OutboxHeader;
import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.core.outbox.Outboxes;
import io.pgtrickle.relay.target.OutboundMessage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;

/**
 * The pages of one read's outbox entries, each read from PostgreSQL and encoded on another thread
 * one page ahead of the publisher: reading and encoding the next page overlap with waiting for the
 * target to acknowledge this one. Pages come in position order; an entry's last page is the first
 * one shorter than the page size (an entry retention removed meanwhile reads as empty).
 */
final class PagePrefetch {
    /** One page of an entry's changes, encoded. */
    record Page(OutboxHeader entry, List<OutboundMessage> messages) {
    }

    /** Turns one change of an entry into its message. */
    interface Encoder {
        OutboundMessage encode(OutboxHeader entry, OutboxChange change);
    }

    private final Outboxes outboxes;
    private final String streamTable;
    private final int pageSize;
    private final Encoder encoder;
    private final Executor executor;
    private final List<OutboxHeader> entries;
    private final OutboxPosition resumeAfter;
    private int entry;
    private int afterRow;
    private CompletableFuture<Page> next;

    /**
     * Starts reading the first page.
     *
     * @param resumeAfter changes up to it are skipped (it may lie inside the first entry)
     */
    PagePrefetch(Outboxes outboxes, String streamTable, int pageSize, Encoder encoder, Executor executor,
                 List<OutboxHeader> entries, OutboxPosition resumeAfter) {
        this.outboxes = outboxes;
        this.streamTable = streamTable;
        this.pageSize = pageSize;
        this.encoder = encoder;
        this.executor = executor;
        this.entries = entries;
        this.resumeAfter = resumeAfter;
        this.afterRow = entries.isEmpty() ? -1 : startRow(0);
        this.next = entries.isEmpty() ? null : fetch();
    }

    /** The next page, or null after the last entry's last page; a failed read throws its own exception. */
    Page take() throws Exception {
        if (next == null) {
            return null;
        }
        Page page;
        try {
            page = next.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof Exception cause) {
                throw cause;
            }
            throw e;
        }
        if (page.messages().size() == pageSize) {
            afterRow = page.messages().get(pageSize - 1).position().rowIndex();
        } else {
            entry++;
            afterRow = entry < entries.size() ? startRow(entry) : -1;
        }
        next = entry < entries.size() ? fetch() : null;
        return page;
    }

    /** Where reading an entry starts: after the resume position when it lies inside it. */
    private int startRow(int index) {
        return entries.get(index).offset() == resumeAfter.offset() ? resumeAfter.rowIndex() : -1;
    }

    private CompletableFuture<Page> fetch() {
        OutboxHeader header = entries.get(entry);
        int after = afterRow;
        return CompletableFuture.supplyAsync(() -> {
            List<OutboxChange> changes = outboxes.changes(streamTable, header.offset(), after, pageSize);
            List<OutboundMessage> messages = new ArrayList<>(changes.size());
            for (OutboxChange change : changes) {
                messages.add(encoder.encode(header, change));
            }
            return new Page(header, messages);
        }, executor);
    }
}
