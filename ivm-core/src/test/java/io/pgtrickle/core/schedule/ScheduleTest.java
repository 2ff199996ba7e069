package io.pgtrickle.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import java.time.Duration;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ScheduleTest {
    @ParameterizedTest
    @CsvSource({"30s,30000", "5m,300000", "1h30m,5400000", "250ms,250", "1d,86400000", " 2H ,7200000", "1m30s,90000"})
    void durationsParseToTheirLength(String text, long millis) {
        assertThat(Schedule.parse(text)).isEqualTo(new Schedule.Every(Duration.ofMillis(millis)));
    }

    @Test
    void calculatedAndNullMeanInheritFromReaders() {
        assertThat(Schedule.parse("calculated")).isInstanceOf(Schedule.Calculated.class);
        assertThat(Schedule.parse("CALCULATED")).isInstanceOf(Schedule.Calculated.class);
        assertThat(Schedule.parse(null)).isInstanceOf(Schedule.Calculated.class);
    }

    @Test
    void textRoundTrips() {
        assertThat(Schedule.parse("90m").text()).isEqualTo("1h30m");
        assertThat(Schedule.parse(Schedule.parse("1h30m").text())).isEqualTo(Schedule.parse("90m"));
        assertThat(Schedule.parse("calculated").text()).isEqualTo("calculated");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "soon", "5", "5 m", "m5", "-1s", "1x", "1h-5m", "99999999999999999999s"})
    void invalidSchedulesAreRejectedNamingTheText(String text) {
        assertThatThrownBy(() -> Schedule.parse(text))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SCHEDULE))
                .hasMessageContaining("\"" + text + "\"")
                .hasMessageContaining("30s, 5m or 1h30m");
    }

    @Test
    void cronIsRecognisedAsNotYetSupported() {
        assertThatThrownBy(() -> Schedule.parse("*/5 * * * *")).hasMessageContaining("cron schedules are not supported yet");
        assertThatThrownBy(() -> Schedule.parse("@hourly")).hasMessageContaining("cron schedules are not supported yet");
    }

    @Test
    void tooShortIntervalsAreRejected() {
        assertThatThrownBy(() -> Schedule.parse("0s")).hasMessageContaining("minimum");
        assertThatThrownBy(() -> Schedule.parse("10ms")).hasMessageContaining("minimum");
    }
}
