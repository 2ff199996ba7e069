package io.pgtrickle.core.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.tuple;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The paged read of an outbox: entry headers, then each entry's changes page by page, give what
 * {@link Outboxes#read} gives in one piece, for entries inline and in the side table, and like it
 * leave out entries that are not settled (committed while an older transaction still runs).
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class OutboxPagedReadIT {
    private static final int PAGE = 1_000;
    private final TestDatabase db;

    OutboxPagedReadIT(TestDatabase db) {
        this.db = db;
    }

    /** Every entry after {@code afterOffset}, assembled from headers and pages of {@link #PAGE}. */
    private static List<OutboxDelta> paged(Outboxes outboxes, String name, long afterOffset, List<Integer> pageSizes) {
        List<OutboxDelta> entries = new ArrayList<>();
        for (OutboxHeader h : outboxes.headers(name, afterOffset, 10_000)) {
            List<OutboxChange> changes = new ArrayList<>();
            int after = -1;
            while (true) {
                List<OutboxChange> page = outboxes.changes(name, h.offset(), after, PAGE);
                pageSizes.add(page.size());
                changes.addAll(page);
                if (page.size() < PAGE) {
                    break;
                }
                after = page.get(page.size() - 1).rowIndex();
            }
            assertThat(changes).hasSize((int) h.rowCount());
            entries.add(new OutboxDelta(h.offset(), h.streamTable(), h.refreshId(), h.createdAt(), h.fullRefresh(),
                    changes));
        }
        return entries;
    }

    @Test
    void pagesOfInlineAndSideTableEntriesAddUpToTheWholeRead() {
        try (PgTrickleEngine engine = OutboxFixture.engine(db)) {
            OutboxFixture.streamTablesWithOutboxes(engine, db, 24, "orders", "payments");
            Outboxes outboxes = engine.outboxes();
            long side = OutboxFixture.write(db, "orders", 2_500); // over the threshold of 2: side table
            OutboxFixture.write(db, "payments", 7); // another table's entry between them
            long small = OutboxFixture.write(db, "orders", 2); // inline
            db.execute("UPDATE pgtrickle.pgt_outbox_config SET inline_threshold_rows = 5000");
            long inline = OutboxFixture.write(db, "orders", 2_500);
            assertThat(db.value("SELECT string_agg((changes IS NULL)::text, ',' ORDER BY outbox_offset)"
                    + " FROM pgtrickle.pgt_outbox WHERE outbox_offset IN (?, ?, ?)", side, small, inline))
                    .isEqualTo("true,false,false");

            List<Integer> pageSizes = new ArrayList<>();
            List<OutboxDelta> paged = paged(outboxes, "orders", 0, pageSizes);
            assertThat(paged).isEqualTo(outboxes.read("orders", 0, 10_000));
            assertThat(paged).extracting(OutboxDelta::offset).containsExactly(side, small, inline);
            assertThat(pageSizes).containsExactly(1000, 1000, 500, 2, 1000, 1000, 500);
            assertThat(paged.get(0).changes()).extracting(OutboxChange::rowIndex)
                    .isEqualTo(IntStream.range(0, 2_500).boxed().toList());

            // A page from the middle, and the headers after an offset.
            assertThat(outboxes.changes("orders", side, 1_499, 3)).extracting(OutboxChange::rowIndex)
                    .containsExactly(1_500, 1_501, 1_502);
            assertThat(outboxes.changes("orders", inline, 2_497, 1_000)).extracting(OutboxChange::rowIndex)
                    .containsExactly(2_498, 2_499);
            assertThat(outboxes.headers("orders", side, 1)).extracting(OutboxHeader::offset, OutboxHeader::rowCount)
                    .containsExactly(tuple(small, 2L));
            // Another stream table's entry is not a page of this one.
            assertThat(outboxes.changes("payments", side, -1, PAGE)).isEmpty();
            assertThatThrownBy(() -> outboxes.changes("orders", side, -1, 0)).isInstanceOf(IllegalArgumentException.class);
        }
    }

    @Test
    void anEntryCommittedWhileAnOlderTransactionRunsIsNotReturnedUntilItEnds() throws Exception {
        try (PgTrickleEngine engine = OutboxFixture.engine(db)) {
            OutboxFixture.streamTablesWithOutboxes(engine, db, 24, "orders");
            Outboxes outboxes = engine.outboxes();
            long first = OutboxFixture.write(db, "orders", 3);
            long late;
            try (Connection older = db.connect()) {
                older.setAutoCommit(false);
                try (Statement s = older.createStatement()) {
                    s.execute("SELECT pg_current_xact_id()"); // takes an xid below the next writer's
                }
                late = OutboxFixture.write(db, "orders", 3);
                assertThat(outboxes.read("orders", 0, 100)).extracting(OutboxDelta::offset).containsExactly(first);
                assertThat(outboxes.headers("orders", 0, 100)).extracting(OutboxHeader::offset).containsExactly(first);
                assertThat(outboxes.changes("orders", late, -1, PAGE)).isEmpty();
                older.commit();
            }
            assertThat(outboxes.headers("orders", 0, 100)).extracting(OutboxHeader::offset).containsExactly(first, late);
            assertThat(outboxes.changes("orders", late, -1, PAGE)).hasSize(3);
            assertThat(paged(outboxes, "orders", 0, new ArrayList<>())).isEqualTo(outboxes.read("orders", 0, 100));
        }
    }
}
