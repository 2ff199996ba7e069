package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.query.QueryParser;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlSelect;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which WHERE clauses read the clock as a sliding window, and how the clock is fixed at an instant. */
class ClockFilterTest {
    private static SqlNode where(String condition) throws Exception {
        return ((SqlSelect) new QueryParser().parse("SELECT id FROM t WHERE " + condition)).getWhere();
    }

    @Test
    void aColumnComparedWithTheClockIsABound() throws Exception {
        ClockFilter f = ClockFilter.of(where("ts > now() - interval '7 days' AND k = 1"));
        assertThat(f.conjuncts()).hasSize(1);
        assertThat(f.bounds()).hasSize(1);
        assertThat(f.bounds().get(0).column()).isEqualTo("\"ts\"");
        String at = f.at("CAST('2026-12-07 01:00:00+00' AS timestamptz)");
        assertThat(at).contains("CAST('2026-12-07 01:00:00+00' AS timestamptz)").contains("7 days").doesNotContain("now");
        assertThat(ClockFilter.withoutClock(where("ts > now() - interval '7 days' AND k = 1")).toString()).doesNotContain("now");
    }

    @Test
    void betweenAndTheClockOnTheLeftGiveOneBoundPerComparison() throws Exception {
        ClockFilter f = ClockFilter.of(where("ts BETWEEN now() - interval '1 hour' AND now() AND current_date - 7 <= d"));
        assertThat(f.bounds()).extracting(ClockFilter.Bound::column).containsExactly("\"ts\"", "\"ts\"", "\"d\"");
        String at = f.at("X");
        assertThat(at).contains("CAST(X AS date)").doesNotContain("current_date");
    }

    @Test
    void noClockNoFilter() throws Exception {
        assertThat(ClockFilter.of(where("ts > '2026-01-01' AND k = 1"))).isNull();
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "now() - ts < interval '1 hour' | mixes it with columns",
            "ts > now() + k * interval '1 day' | mixes it with columns",
            "coalesce(ts > now(), true) | in the condition",
            "k IN (SELECT k FROM u WHERE u.ts > now()) | inside a subquery",
            "ts > now() IS TRUE | in the condition",
    })
    void otherUsesOfTheClockAreRefusedByName(String condition, String message) {
        assertThatThrownBy(() -> ClockFilter.of(where(condition))).isInstanceOf(NotDifferentiable.class)
                .hasMessageContaining(message).hasMessageContaining("placed_at > now() - interval '7 days'");
    }
}
