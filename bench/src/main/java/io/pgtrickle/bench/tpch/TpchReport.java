package io.pgtrickle.bench.tpch;

import io.pgtrickle.bench.Charts;
import io.pgtrickle.bench.Csv;
import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.Quantiles;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The figures of a TPC-H run: per query and change size, median and p95 of each refresh kind and
 * how many times faster DIFFERENTIAL was than FULL and than {@code REFRESH MATERIALIZED VIEW}
 * (ratio of medians, more than 1 when DIFFERENTIAL is faster) and, when AUTO ran, AUTO's median,
 * what it chose and its median over the better of the DIFFERENTIAL and FULL medians (flagged above
 * {@link AutoComparison#LIMIT}). Written as text rows, CSV files and one PNG chart per change size.
 */
public final class TpchReport {
    /** The printed summary's columns without AUTO; {@link #summaryHeader()} adds AUTO's before "invariant". */
    public static final List<String> SUMMARY_HEADER = List.of("query", "mode", "change", "cycles", "diff median ms",
            "diff p95 ms", "full median ms", "full p95 ms", "mv median ms", "mv p95 ms", "full/diff", "mv/diff",
            "invariant");
    private static final List<String> AUTO_SUMMARY_COLUMNS = List.of("auto median ms", "auto action", "auto/best");
    /**
     * {@code change} is the size as given ({@code 1%}, {@code 1000rows}); {@code rows_written} the batch's exact rows;
     * the AUTO columns come last (so earlier columns keep their positions) and are empty without AUTO.
     */
    public static final List<String> CYCLE_HEADER = List.of("query", "mode", "change", "cycle", "rows_written", "diff_ms",
            "diff_action", "diff_rows", "full_ms", "mv_ms", "invariant_held", "error", "auto_ms", "auto_action",
            "auto_over_best", "auto_over_limit");

    private final TpchBench.Results results;

    public TpchReport(TpchBench.Results results) {
        this.results = results;
    }

    /** The summary of one query at one change size. */
    public record Summary(QuerySetup setup, ChangeSize change, int cycles, Quantiles diff, Quantiles full,
                          Quantiles mv, Quantiles auto, String autoActions, int invariantFailures, int errors) {
        public double fullOverDiff() {
            return diff.count() == 0 ? Double.NaN : full.medianMillis() / diff.medianMillis();
        }

        public double mvOverDiff() {
            return diff.count() == 0 ? Double.NaN : mv.medianMillis() / diff.medianMillis();
        }

        /** AUTO's median over the better of the DIFFERENTIAL and FULL medians; NaN without AUTO. */
        public double autoOverBest() {
            // A kind never measured has a NaN median, which AutoComparison treats as missing.
            return AutoComparison.ratio(auto.medianMillis(), diff.medianMillis(), full.medianMillis());
        }

        /** The ratio as printed, e.g. {@code 1.05x}, or {@code 1.35x >1.2} when it misses the target. */
        String autoOverBestText() {
            double r = autoOverBest();
            return Double.isNaN(r) ? "n/a" : Figures.ratio(r, 1) + (AutoComparison.tooSlow(r) ? " >" + AutoComparison.LIMIT : "");
        }

        /** {@code held}, {@code FAILED n/m}, or {@code n/a} when nothing was checked. */
        public String invariant() {
            if (cycles == 0) {
                return "n/a";
            }
            return invariantFailures == 0 ? "held" : "FAILED " + invariantFailures + "/" + cycles;
        }

        List<String> row(boolean withAuto) {
            List<String> row = new ArrayList<>(List.of(setup.query().label(), setup.mode(), change.label(),
                    Integer.toString(cycles), Figures.millis(diff.medianMillis()), Figures.millis(diff.p95Millis()),
                    Figures.millis(full.medianMillis()), Figures.millis(full.p95Millis()),
                    Figures.millis(mv.medianMillis()), Figures.millis(mv.p95Millis()),
                    Figures.ratio(full.medianMillis(), diff.medianMillis()),
                    Figures.ratio(mv.medianMillis(), diff.medianMillis())));
            if (withAuto) {
                row.addAll(List.of(Figures.millis(auto.medianMillis()), autoActions.isEmpty() ? "n/a" : autoActions,
                        autoOverBestText()));
            }
            row.add(invariant());
            return row;
        }
    }

    /** Whether any query had an AUTO stream table (not with {@code --no-auto}). */
    public boolean withAuto() {
        return results.setups().stream().anyMatch(QuerySetup::auto);
    }

    /** The printed summary's columns: {@link #SUMMARY_HEADER}, with AUTO's before "invariant" when AUTO ran. */
    public List<String> summaryHeader() {
        List<String> header = new ArrayList<>(SUMMARY_HEADER.subList(0, SUMMARY_HEADER.size() - 1));
        if (withAuto()) {
            header.addAll(AUTO_SUMMARY_COLUMNS);
        }
        header.add(SUMMARY_HEADER.get(SUMMARY_HEADER.size() - 1));
        return header;
    }

    /** Per column of {@link #summaryHeader()}: whether it holds figures (right-aligned). */
    public List<Boolean> summaryRightAligned() {
        return summaryHeader().stream().map(h -> !List.of("query", "mode", "change", "auto action", "invariant")
                .contains(h)).toList();
    }

    /**
     * One line on AUTO at {@code change}: on how many queries it stayed within the limit of the
     * better of DIFFERENTIAL and FULL (medians), and which missed it; empty without AUTO.
     */
    public String autoVerdict(ChangeSize change) {
        if (!withAuto()) {
            return "";
        }
        List<Summary> judged = summaries().stream().filter(s -> s.change().equals(change))
                .filter(s -> !Double.isNaN(s.autoOverBest())).toList();
        List<String> over = judged.stream().filter(s -> AutoComparison.tooSlow(s.autoOverBest()))
                .map(s -> s.setup().query().label() + " " + Figures.ratio(s.autoOverBest(), 1) + " (" + s.autoActions() + ")")
                .toList();
        return String.format(java.util.Locale.ROOT, "AUTO within %sx of the better of DIFFERENTIAL and FULL on %d of %d"
                        + " queries%s", Figures.plain(AutoComparison.LIMIT), judged.size() - over.size(), judged.size(),
                over.isEmpty() ? "" : "; slower: " + String.join(", ", over));
    }

    /** Summaries in change-size order, then query order. */
    public List<Summary> summaries() {
        List<Summary> out = new ArrayList<>();
        for (ChangeSize change : changes()) {
            for (QuerySetup setup : results.setups()) {
                List<CycleResult> cycles = results.cycles().stream()
                        .filter(r -> r.change().equals(change) && r.query().equals(setup.query().label())).toList();
                out.add(new Summary(setup, change, cycles.size(), times(cycles, CycleResult::diffMillis),
                        times(cycles, CycleResult::fullMillis), times(cycles, CycleResult::mvMillis),
                        times(cycles, CycleResult::autoMillis),
                        AutoComparison.actions(cycles.stream().map(CycleResult::autoAction).toList()),
                        (int) cycles.stream().filter(r -> !r.invariantHeld()).count(),
                        (int) cycles.stream().filter(r -> r.error() != null).count()));
            }
        }
        return out;
    }

    private List<ChangeSize> changes() {
        return results.cycles().stream().map(CycleResult::change).distinct().toList();
    }

    private static Quantiles times(List<CycleResult> cycles, java.util.function.ToDoubleFunction<CycleResult> f) {
        return Quantiles.of(cycles.stream().mapToDouble(f).filter(v -> !Double.isNaN(v))
                .mapToLong(ms -> Math.round(ms * 1e6)).toArray());
    }

    /** The summary table's rows for one change size. */
    public List<List<String>> summaryRows(ChangeSize change) {
        boolean withAuto = withAuto();
        return summaries().stream().filter(s -> s.change().equals(change)).map(s -> s.row(withAuto)).toList();
    }

    /**
     * The problems of the run, one line each: failed set-ups, refresh errors, invariant failures.
     * A refresh skipped after a time-out is counted on the time-out's line, not repeated.
     */
    public List<String> problems() {
        List<String> lines = new ArrayList<>();
        for (QuerySetup s : results.setups()) {
            if (!s.usable()) {
                lines.add(s.query().label() + ": not set up: " + s.setupError());
            }
        }
        Map<String, Integer> skippedPerQuery = new LinkedHashMap<>();
        for (CycleResult r : results.cycles()) {
            if (r.error() != null && r.error().contains(TpchBench.SKIPPED)) {
                skippedPerQuery.merge(r.query(), 1, Integer::sum);
            }
        }
        for (CycleResult r : results.cycles()) {
            if (r.error() == null) {
                continue;
            }
            List<String> own = java.util.Arrays.stream(r.error().split("; "))
                    .filter(e -> !e.contains(TpchBench.SKIPPED)).toList();
            if (own.isEmpty()) {
                continue;
            }
            String line = r.query() + " " + r.change().label() + " #" + r.cycle() + ": " + String.join("; ", own);
            Integer skipped = skippedPerQuery.remove(r.query());
            lines.add(skipped == null ? line : line + " (" + skipped + " later cycles skipped it)");
        }
        return lines;
    }

    /** Whether every check after every cycle held. */
    public boolean invariantHeldEverywhere() {
        return results.cycles().stream().allMatch(CycleResult::invariantHeld);
    }

    /** {@code true} when AUTO missed the target, {@code false} when it met it, empty when not measured. */
    private static String overLimit(double ratio) {
        return Double.isNaN(ratio) ? "" : Boolean.toString(AutoComparison.tooSlow(ratio));
    }

    private static String percent(ChangeSize change) {
        return change.inRows() ? "" : Double.toString(change.percent());
    }

    /** Writes {@code tpch-summary.csv}, {@code tpch-cycles.csv} and one {@code tpch-<change>.png} per size. */
    public List<Path> write(Path directory) throws IOException {
        List<Path> files = new ArrayList<>();
        Path summary = directory.resolve("tpch-summary.csv");
        // change is the size as given (1%, 1000rows); change_percent only for sizes given as a percentage.
        // The AUTO columns come last, so the earlier ones keep their positions; empty without AUTO.
        List<String> header = List.of("query", "mode", "change", "change_percent", "cycles", "diff_median_ms", "diff_p95_ms",
                "full_median_ms", "full_p95_ms", "mv_median_ms", "mv_p95_ms", "full_over_diff", "mv_over_diff",
                "invariant_failures", "errors", "full_only_reason", "auto_median_ms", "auto_p95_ms", "auto_actions",
                "auto_over_best", "auto_over_limit");
        List<List<String>> rows = new ArrayList<>();
        for (Summary s : summaries()) {
            rows.add(List.of(s.setup().query().label(), s.setup().mode(), s.change().label(), percent(s.change()),
                    Integer.toString(s.cycles()), Figures.csv(s.diff().medianMillis()), Figures.csv(s.diff().p95Millis()),
                    Figures.csv(s.full().medianMillis()), Figures.csv(s.full().p95Millis()),
                    Figures.csv(s.mv().medianMillis()), Figures.csv(s.mv().p95Millis()), Figures.csv(s.fullOverDiff()),
                    Figures.csv(s.mvOverDiff()), Integer.toString(s.invariantFailures()), Integer.toString(s.errors()),
                    Objects.toString(s.setup().fullOnlyReason(), ""), Figures.csv(s.auto().medianMillis()),
                    Figures.csv(s.auto().p95Millis()), s.autoActions(), Figures.csv(s.autoOverBest()),
                    overLimit(s.autoOverBest())));
        }
        Csv.write(summary, header, rows);
        files.add(summary);

        Path cycles = directory.resolve("tpch-cycles.csv");
        Map<String, String> modes = results.setups().stream()
                .collect(Collectors.toMap(s -> s.query().label(), QuerySetup::mode));
        List<List<String>> cycleRows = new ArrayList<>();
        for (CycleResult r : results.cycles()) {
            String written = results.batches().stream().filter(b -> b.change().equals(r.change()) && b.cycle() == r.cycle())
                    .map(b -> Long.toString(b.rows().rows())).findFirst().orElse("");
            cycleRows.add(List.of(r.query(), modes.get(r.query()), r.change().label(),
                    Integer.toString(r.cycle()), written, Figures.csv(r.diffMillis()), Objects.toString(r.diffAction(), ""),
                    Long.toString(r.diffRows()), Figures.csv(r.fullMillis()), Figures.csv(r.mvMillis()),
                    Boolean.toString(r.invariantHeld()), Objects.toString(r.error(), ""), Figures.csv(r.autoMillis()),
                    Objects.toString(r.autoAction(), ""), Figures.csv(r.autoOverBest()), overLimit(r.autoOverBest())));
        }
        Csv.write(cycles, CYCLE_HEADER, cycleRows);
        files.add(cycles);

        for (ChangeSize change : changes()) {
            List<Summary> of = summaries().stream().filter(s -> s.change().equals(change)).toList();
            Map<String, List<Double>> series = new LinkedHashMap<>();
            series.put("DIFFERENTIAL refresh", of.stream().map(s -> s.diff().medianMillis()).toList());
            series.put("FULL refresh (engine)", of.stream().map(s -> s.full().medianMillis()).toList());
            series.put("REFRESH MATERIALIZED VIEW", of.stream().map(s -> s.mv().medianMillis()).toList());
            if (withAuto()) {
                series.put("AUTO refresh (engine)", of.stream().map(s -> s.auto().medianMillis()).toList());
            }
            Path png = directory.resolve("tpch-" + change.label().replace("%", "pct") + ".png");
            Charts.write(png, new Charts.Bars(String.format(java.util.Locale.ROOT,
                    "TPC-H SF %s: median refresh time after %s (log scale)",
                    Figures.plain(results.scale()), change.description()), "query", "milliseconds",
                    of.stream().map(s -> s.setup().query().label()).toList(), series, true), 1200, 600);
            files.add(png);
        }
        return files;
    }
}
