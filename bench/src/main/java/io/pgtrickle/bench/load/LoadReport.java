package io.pgtrickle.bench.load;

import io.pgtrickle.bench.Charts;
import io.pgtrickle.bench.Csv;
import io.pgtrickle.bench.Figures;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The figures of a sustained-load run as printed rows, {@code load-summary.csv} and {@code load-lag.png}. */
public final class LoadReport {
    public static final List<String> HEADER = List.of("target rows/s", "achieved rows/s", "stream table", "lag p50 ms",
            "lag p99 ms", "lag max ms", "not visible", "refreshes", "invariant", "engine CPU mean %",
            "engine CPU max %", "heap mean MB", "heap max MB", "RSS max MB");

    private LoadReport() {
    }

    public static List<List<String>> rows(List<LoadBench.Phase> phases) {
        List<List<String>> rows = new ArrayList<>();
        for (LoadBench.Phase p : phases) {
            for (LoadBench.Lag l : p.lags()) {
                rows.add(List.of(Long.toString(p.targetRate()), Figures.rate(p.achievedRate()), l.streamTable(),
                        Figures.millis(l.lag().medianMillis()), Figures.millis(l.lag().p99Millis()),
                        Figures.millis(l.lag().maxMillis()), Long.toString(l.notVisible()),
                        Integer.toString(l.refreshesSeen()), l.invariantHeld() ? "held" : "FAILED",
                        Figures.rate(p.cpuMeanPercent()), Figures.rate(p.cpuMaxPercent()), Figures.rate(p.heapMeanMb()),
                        Figures.rate(p.heapMaxMb()), Figures.rate(p.rssMaxMb())));
            }
        }
        return rows;
    }

    public static boolean invariantHeldEverywhere(List<LoadBench.Phase> phases) {
        return phases.stream().flatMap(p -> p.lags().stream()).allMatch(LoadBench.Lag::invariantHeld);
    }

    public static List<Path> write(List<LoadBench.Phase> phases, Path directory, String schedule) throws IOException {
        Path csv = directory.resolve("load-summary.csv");
        List<List<String>> rows = new ArrayList<>();
        for (LoadBench.Phase p : phases) {
            for (LoadBench.Lag l : p.lags()) {
                rows.add(List.of(Long.toString(p.targetRate()), Figures.csv(p.achievedRate()), Long.toString(p.rows()),
                        Long.toString(p.transactions()), l.streamTable(), Figures.csv(l.lag().medianMillis()),
                        Figures.csv(l.lag().p99Millis()), Figures.csv(l.lag().maxMillis()), Long.toString(l.notVisible()),
                        Integer.toString(l.refreshesSeen()), Boolean.toString(l.invariantHeld()),
                        Figures.csv(p.cpuMeanPercent()), Figures.csv(p.cpuMaxPercent()), Figures.csv(p.heapMeanMb()),
                        Figures.csv(p.heapMaxMb()), Figures.csv(p.rssMaxMb()), p.error() == null ? "" : p.error()));
            }
        }
        Csv.write(csv, List.of("target_rows_per_s", "achieved_rows_per_s", "rows", "transactions", "stream_table",
                "lag_p50_ms", "lag_p99_ms", "lag_max_ms", "not_visible", "refreshes", "invariant_held",
                "engine_cpu_mean_percent", "engine_cpu_max_percent", "heap_mean_mb", "heap_max_mb", "rss_max_mb",
                "error"), rows);
        List<String> categories = new ArrayList<>();
        Map<String, List<Double>> series = new LinkedHashMap<>();
        series.put("p50", new ArrayList<>());
        series.put("p99", new ArrayList<>());
        series.put("max", new ArrayList<>());
        for (LoadBench.Phase p : phases) {
            for (LoadBench.Lag l : p.lags()) {
                categories.add(l.streamTable().replaceFirst("^load_", "") + " @ " + p.targetRate() + "/s");
                series.get("p50").add(l.lag().medianMillis());
                series.get("p99").add(l.lag().p99Millis());
                series.get("max").add(l.lag().maxMillis());
            }
        }
        Path png = directory.resolve("load-lag.png");
        Charts.write(png, new Charts.Bars("Commit-to-visibility lag under sustained inserts (schedule " + schedule
                + ")", "stream table @ target rate", "milliseconds", categories, series, false), 1200, 600);
        return List.of(csv, png);
    }
}
