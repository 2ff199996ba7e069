package io.pgtrickle.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import java.time.Duration;
import java.time.Instant;
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

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "*/5 * * * *|*/5 * * * *", "  0  2 * * 1-5 |0 2 * * 1-5", "0 30 2 * * *|0 30 2 * * *", "@hourly|@hourly",
            "@daily|@daily", "CRON_TZ=Europe/Oslo 0 6 * * *|CRON_TZ=Europe/Oslo 0 6 * * *"})
    void cronSchedulesParseAndKeepTheirText(String text, String kept) {
        Schedule s = Schedule.parse(text);
        assertThat(s).isInstanceOf(CronSchedule.class);
        assertThat(s.text()).isEqualTo(kept);
        assertThat(Schedule.parse(s.text())).isEqualTo(s);
    }

    @Test
    void aCronStreamTableIsDueOnceTheCronFiredAfterItsLastRefresh() {
        CronSchedule quarterly = (CronSchedule) Schedule.parse("*/15 * * * *");
        Instant refreshed = Instant.parse("2026-12-07T10:01:00Z");
        assertThat(quarterly.dueAt(refreshed, Instant.parse("2026-12-07T10:14:59Z"))).isFalse();
        assertThat(quarterly.dueAt(refreshed, Instant.parse("2026-12-07T10:15:00Z"))).isTrue();
        assertThat(quarterly.dueAt(refreshed, Instant.parse("2026-12-07T11:40:00Z"))).isTrue();
        assertThat(quarterly.dueAt(null, Instant.parse("2026-12-07T10:02:00Z"))).as("never refreshed").isTrue();
        assertThat(quarterly.period()).contains(Duration.ofMinutes(15));

        CronSchedule seconds = (CronSchedule) Schedule.parse("*/10 * * * * *");
        assertThat(seconds.dueAt(Instant.parse("2026-12-07T10:00:01Z"), Instant.parse("2026-12-07T10:00:09Z"))).isFalse();
        assertThat(seconds.dueAt(Instant.parse("2026-12-07T10:00:01Z"), Instant.parse("2026-12-07T10:00:10.5Z"))).isTrue();

        CronSchedule oslo = (CronSchedule) Schedule.parse("CRON_TZ=Europe/Oslo 0 6 * * *"); // 05:00 UTC in winter
        assertThat(oslo.dueAt(Instant.parse("2026-12-07T04:00:00Z"), Instant.parse("2026-12-07T04:59:00Z"))).isFalse();
        assertThat(oslo.dueAt(Instant.parse("2026-12-07T04:00:00Z"), Instant.parse("2026-12-07T05:00:00Z"))).isTrue();
        assertThat(((CronSchedule) Schedule.parse("@weekly")).period()).contains(Duration.ofDays(7));
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "61 * * * *|61", "* * * *  * * *|7 fields", "@fortnightly|unknown macro @fortnightly",
            "CRON_TZ=Mars/Olympus 0 6 * * *|unknown time zone", "0 0 31 2 *|never fires", "a b c d e|\"a b c d e\"",
            "* * * * ;|characters cron does not use"})
    void invalidCronSchedulesAreRejectedWithTheReason(String text, String reason) {
        assertThatThrownBy(() -> Schedule.parse(text))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_SCHEDULE))
                .hasMessageContaining("invalid cron schedule")
                .hasMessageContaining(reason)
                .hasMessageContaining("'*/5 * * * *'");
    }

    @Test
    void tooShortIntervalsAreRejected() {
        assertThatThrownBy(() -> Schedule.parse("0s")).hasMessageContaining("minimum");
        assertThatThrownBy(() -> Schedule.parse("10ms")).hasMessageContaining("minimum");
    }
}
