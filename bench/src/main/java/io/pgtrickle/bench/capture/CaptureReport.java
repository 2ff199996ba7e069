package io.pgtrickle.bench.capture;

import io.pgtrickle.bench.DurationText;
import io.pgtrickle.bench.Figures;
import io.pgtrickle.core.capture.CdcMode;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The figures of a capture run as table rows (figure, value, unit) and as one summary line. */
public final class CaptureReport {
    public static final List<String> HEADER = List.of("figure", "value", "unit");

    private CaptureReport() {
    }

    public static List<List<String>> rows(CaptureBench.Result r, CaptureOptions o) {
        CaptureStats s = r.stats();
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("rows written", Long.toString(s.rowsWritten()), "rows"));
        rows.add(List.of("rows buffered", Long.toString(s.rowsBuffered()), "rows"));
        rows.add(List.of("write rate", Figures.rate(writeRate(r, o)), "rows/s (target " + target(o) + ")"));
        rows.add(List.of("ingest rate", Figures.rate(s.ingestRate()), "changes/s into the buffer"));
        rows.add(List.of("latency p50", millis(s.p50()), "ms, " + (r.mode() == CdcMode.WAL ? "commit to buffer"
                : "insert to buffer, inside the insert's transaction")));
        rows.add(List.of("latency p95", millis(s.p95()), "ms"));
        rows.add(List.of("latency p99", millis(s.p99()), "ms"));
        rows.add(List.of("latency max", millis(s.max()), "ms"));
        rows.add(List.of("insert round trip p50", Figures.millis(r.roundTrips().medianMillis()),
                "ms, as the writers saw their commits"));
        rows.add(List.of("insert round trip p99", Figures.millis(r.roundTrips().p99Millis()), "ms"));
        if (r.drain() != null) {
            rows.add(List.of("caught up", Figures.millis(r.drain().toNanos() / 1e6), "ms after the load stopped"));
        }
        return rows;
    }

    /** What the table covers. */
    public static String title(CaptureOptions o) {
        return "results: " + (o.warmup().isZero() ? "all rows" : "rows written after the "
                + DurationText.format(o.warmup()) + " warm-up") + ", over " + DurationText.format(o.duration());
    }

    /** One line with every headline figure, for logs and scripts. */
    public static String summary(CaptureBench.Result r, CaptureOptions o) {
        CaptureStats s = r.stats();
        return String.format(Locale.ROOT, "summary: %s capture, %d writers, %d row(s) per transaction, target %s, %s:"
                        + " %d rows written at %s rows/s, %s changes/s buffered, %s latency p50 %s ms, p95 %s ms,"
                        + " p99 %s ms, max %s ms", r.mode(), o.writers(), o.batch(),
                o.rate() == 0 ? "as fast as possible" : o.rate() + " rows/s", DurationText.format(o.duration()),
                s.rowsWritten(), Figures.rate(writeRate(r, o)), Figures.rate(s.ingestRate()),
                r.mode() == CdcMode.WAL ? "commit-to-buffer" : "insert-to-buffer",
                millis(s.p50()), millis(s.p95()), millis(s.p99()), millis(s.max()));
    }

    private static double writeRate(CaptureBench.Result r, CaptureOptions o) {
        return r.stats().rowsWritten() / (o.duration().toNanos() / 1e9);
    }

    private static String target(CaptureOptions o) {
        return o.rate() == 0 ? "as fast as possible" : Long.toString(o.rate());
    }

    /** Seconds (as the buffer's statistics give them) in milliseconds. */
    private static String millis(double seconds) {
        return Figures.millis(seconds * 1000);
    }
}
