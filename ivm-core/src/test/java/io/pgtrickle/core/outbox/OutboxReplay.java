package io.pgtrickle.core.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.testing.TestDatabase;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The outbox invariant: replaying every change of a stream table's outbox, in order, onto an empty
 * table reproduces the stream table. Each change must also agree with the replayed state: an insert
 * of a key not there, an update or delete whose before image is what the key holds.
 */
public final class OutboxReplay {
    private final Map<String, String> rows = new HashMap<>();
    private long lastOffset;

    /** Applies {@code deltas} (the next ones after the last applied, in offset order). */
    public OutboxReplay apply(List<OutboxDelta> deltas) {
        for (OutboxDelta d : deltas) {
            assertThat(d.offset()).as("offsets increase").isGreaterThan(lastOffset);
            lastOffset = d.offset();
            for (int i = 0; i < d.changes().size(); i++) {
                OutboxChange c = d.changes().get(i);
                assertThat(c.rowIndex()).as("row_index of entry %d", d.offset()).isEqualTo(i);
                switch (c.op()) {
                    case "insert" -> assertThat(rows.put(c.key(), c.after())).as("insert of a new key %s", c.key()).isNull();
                    case "update" -> {
                        assertThat(rows.get(c.key())).as("before image of %s", c.key()).isEqualTo(c.before());
                        assertThat(c.after()).as("update changes the row").isNotEqualTo(c.before());
                        rows.put(c.key(), c.after());
                    }
                    case "delete" -> assertThat(rows.remove(c.key())).as("before image of %s", c.key()).isEqualTo(c.before());
                    default -> throw new AssertionError("unknown op " + c.op());
                }
            }
        }
        return this;
    }

    public long lastOffset() {
        return lastOffset;
    }

    /** Asserts that the replayed rows are the stream table's rows (user columns), as a multiset. */
    public void assertReproduces(TestDatabase db, String streamTable) {
        List<String> actual = new ArrayList<>();
        for (List<Object> r : db.rows("SELECT (to_jsonb(t) - '{__pgt_row_id,__pgt_h}'::text[])::text FROM " + streamTable + " t")) {
            actual.add((String) r.get(0));
        }
        assertThat(new ArrayList<>(rows.values())).as("outbox replay of %s", streamTable)
                .containsExactlyInAnyOrderElementsOf(actual);
    }
}
