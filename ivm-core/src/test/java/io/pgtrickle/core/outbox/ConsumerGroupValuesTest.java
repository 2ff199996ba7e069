package io.pgtrickle.core.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.error.ErrorCode;
import java.sql.SQLException;
import java.time.OffsetDateTime;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The consumer-group value types and the SQLSTATE-to-code mapping, without a database. */
class ConsumerGroupValuesTest {
    private static OutboxEntry entry(long offset) {
        return new OutboxEntry(offset, "\"My Schema\".orders", 7L, OffsetDateTime.now(), false, 1, 0, 0, 1, "[]");
    }

    @Test
    void theDedupKeyIsStreamTableOffsetAndRowIndex() {
        assertThat(entry(42).dedupKey(0)).isEqualTo("\"My Schema\".orders:42:0");
        assertThatThrownBy(() -> entry(42).dedupKey(-1)).hasMessageContaining("row_index starts at 0");
    }

    @Test
    void aBatchHasALeaseExactlyWhenItHasEntriesAndCommitsItsLastOffset() {
        ConsumerGroupBatch batch = new ConsumerGroupBatch(List.of(entry(3), entry(5)), OffsetDateTime.now());
        assertThat(batch.lastOffset()).isEqualTo(5);
        ConsumerGroupBatch empty = new ConsumerGroupBatch(List.of(), null);
        assertThat(empty.isEmpty()).isTrue();
        assertThatThrownBy(empty::lastOffset).hasMessageContaining("empty batch");
        assertThatThrownBy(() -> new ConsumerGroupBatch(List.of(), OffsetDateTime.now()))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void eachRefusalMapsToAStableCode() {
        assertThat(code("42704")).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(code("42P01")).isEqualTo(ErrorCode.NOT_FOUND);
        assertThat(code("42710")).isEqualTo(ErrorCode.NAME_TAKEN);
        assertThat(code("55000")).isEqualTo(ErrorCode.LEASE_NOT_HELD);
        assertThat(code("22023")).isEqualTo(ErrorCode.INVALID_ARGUMENT);
        assertThat(code("2BP01")).isEqualTo(ErrorCode.HAS_DEPENDANTS);
        assertThat(code("08006")).isEqualTo(ErrorCode.CONNECTION_FAILED);
        assertThat(ConsumerGroups.translate("polling g", new SQLException("boom", "XX000")).getMessage())
                .isEqualTo("polling g: boom");
    }

    private static ErrorCode code(String sqlState) {
        return ConsumerGroups.translate("x", new SQLException("m", sqlState)).code();
    }
}
