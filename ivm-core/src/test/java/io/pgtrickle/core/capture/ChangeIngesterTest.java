package io.pgtrickle.core.capture;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.sql.QualifiedName;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChangeIngesterTest {
    private static final ChangeSource SOURCE = new ChangeSource(16385, new QualifiedName("public", "t"), CdcMode.WAL,
            "changes_16385");

    @Test
    void aRepeatedEventInOneBatchIsBufferedOnce() {
        var insert = new ChangeIngester.BufferRow(700, 3, (short) 1, "{\"id\": 1}", "0/1");
        var other = new ChangeIngester.BufferRow(700, 5, (short) 1, "{\"id\": 2}", "0/1");

        assertThat(ChangeIngester.distinct(SOURCE, List.of(insert, other, insert))).containsExactly(insert, other);
        List<ChangeIngester.BufferRow> noRepeats = List.of(insert, other);
        assertThat(ChangeIngester.distinct(SOURCE, noRepeats)).isSameAs(noRepeats);
    }

    @Test
    void twoDifferentChangesUnderOneKeyFailTheBatchInsteadOfLosingOne() {
        var first = new ChangeIngester.BufferRow(700, 3, (short) 1, "{\"id\": 1}", "0/1");
        var clash = new ChangeIngester.BufferRow(700, 3, (short) 1, "{\"id\": 9}", "0/1");

        assertThatThrownBy(() -> ChangeIngester.distinct(SOURCE, List.of(first, clash)))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("public.t")
                .hasMessageContaining("txId 700, seq 3")
                .hasMessageContaining("not buffered");
    }
}
