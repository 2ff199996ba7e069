package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class FormatsTest {
    @Test
    void secondsKeepHundredthsBelowTen() {
        assertThat(Formats.seconds(Duration.ofMillis(40))).isEqualTo("0.04 s");
        assertThat(Formats.seconds(Duration.ofMillis(1400))).isEqualTo("1.40 s");
        assertThat(Formats.seconds(Duration.ofMillis(9996))).isEqualTo("10 s");
        assertThat(Formats.seconds(Duration.ofSeconds(75))).isEqualTo("75 s");
    }

    @Test
    void agesGrowCoarserWithSize() {
        assertThat(Formats.age(null)).isEmpty();
        assertThat(Formats.age(Duration.ofMillis(850))).isEqualTo("0.9s");
        assertThat(Formats.age(Duration.ofSeconds(45))).isEqualTo("45s");
        assertThat(Formats.age(Duration.ofSeconds(185))).isEqualTo("3m05s");
        assertThat(Formats.age(Duration.ofMinutes(127))).isEqualTo("2h07m");
        assertThat(Formats.age(Duration.ofHours(76))).isEqualTo("3d04h");
    }

    @Test
    void bytesReadLikePgSizePretty() {
        assertThat(Formats.bytes(null)).isEmpty();
        assertThat(Formats.bytes(0L)).isEqualTo("0 B");
        assertThat(Formats.bytes(1023L)).isEqualTo("1023 B");
        assertThat(Formats.bytes(1024L)).isEqualTo("1.0 kB");
        assertThat(Formats.bytes(16_384L)).isEqualTo("16 kB");
        assertThat(Formats.bytes(1_572_864L)).isEqualTo("1.5 MB");
        assertThat(Formats.bytes(1024L * 1024 * 1023 + 1024L * 1000)).isEqualTo("1.0 GB");
        assertThat(Formats.bytes(5L * 1024 * 1024 * 1024 * 1024)).isEqualTo("5.0 TB");
    }

    @Test
    void abbreviateKeepsOneLine() {
        assertThat(Formats.abbreviate(null, 10)).isEmpty();
        assertThat(Formats.abbreviate("short", 10)).isEqualTo("short");
        assertThat(Formats.abbreviate("a\n  long   message here", 12)).isEqualTo("a long me...");
    }
}
