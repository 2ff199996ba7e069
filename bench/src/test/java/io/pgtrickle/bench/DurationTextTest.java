package io.pgtrickle.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DurationTextTest {
    @Test
    void parsesUnitsAndTheirSums() {
        assertThat(DurationText.parse("20s")).isEqualTo(Duration.ofSeconds(20));
        assertThat(DurationText.parse("1m")).isEqualTo(Duration.ofMinutes(1));
        assertThat(DurationText.parse(" 1m30s ")).isEqualTo(Duration.ofSeconds(90));
        assertThat(DurationText.parse("500ms")).isEqualTo(Duration.ofMillis(500));
        assertThat(DurationText.parse("2H")).isEqualTo(Duration.ofHours(2));
        assertThat(DurationText.parse("0s")).isZero();
        assertThat(DurationText.parse("0")).isZero();
    }

    @Test
    void rejectsWhatIsNotADuration() {
        for (String bad : new String[] {"", "20", "s", "1.5s", "-1s", "20 s", "1d", "PT20S", "1m 30s"}) {
            assertThatThrownBy(() -> DurationText.parse(bad)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("invalid duration");
        }
    }

    @Test
    void formatsWhatParseReadsBack() {
        for (String text : new String[] {"20s", "1m", "1m30s", "500ms", "2h", "0s", "1h1m1s1ms"}) {
            assertThat(DurationText.format(DurationText.parse(text))).isEqualTo(text);
        }
    }
}
