package io.pgtrickle.bench;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Quantiles, figures and CSV: the arithmetic and formats of every report. */
class QuantilesTest {
    @Test
    void interpolatesBetweenClosestRanks() {
        Quantiles q = Quantiles.of(4_000_000L, 1_000_000L, 3_000_000L, 2_000_000L);

        assertThat(q.medianMillis()).isEqualTo(2.5);
        assertThat(q.maxMillis()).isEqualTo(4.0);
        assertThat(q.nanos(0)).isEqualTo(1_000_000.0);
        assertThat(q.p95Millis()).isCloseTo(3.85, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(Quantiles.of().medianMillis()).isNaN();
    }

    @Test
    void figuresKeepAboutThreeSignificantDigits() {
        assertThat(Figures.millis(0.0524)).isEqualTo("0.052");
        assertThat(Figures.millis(12.34)).isEqualTo("12.3");
        assertThat(Figures.millis(1234.5)).isEqualTo("1235");
        assertThat(Figures.millis(Double.NaN)).isEqualTo("n/a");
        assertThat(Figures.ratio(300, 100)).isEqualTo("3.00x");
        assertThat(Figures.ratio(1, 200)).isEqualTo("0.005x");
        assertThat(Figures.ratio(1, Double.NaN)).isEqualTo("n/a");
        assertThat(Figures.plain(0.010)).isEqualTo("0.01");
    }

    @Test
    void csvQuotesOnlyWhatItMust(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("x/out.csv");
        Csv.write(file, List.of("a", "b"), List.of(List.of("1", "x, \"y\"")));

        assertThat(Files.readString(file)).isEqualTo("a,b\n1,\"x, \"\"y\"\"\"\n");
    }

    @Test
    void chartsRenderWithoutADisplay(@TempDir Path dir) throws Exception {
        Path png = dir.resolve("c.png");
        Charts.write(png, new Charts.Bars("t", "x", "ms", List.of("q1", "q2"),
                java.util.Map.of("a", List.of(1.0, Double.NaN)), true), 400, 300);

        assertThat(Files.readAllBytes(png)).startsWith(0x89, 'P', 'N', 'G');
    }
}
