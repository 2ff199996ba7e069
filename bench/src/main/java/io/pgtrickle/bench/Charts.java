package io.pgtrickle.bench;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Grouped bar charts as PNG files, rendered without a display ({@code java.awt.headless}), so the
 * benchmarks run on servers and in CI. One fixed palette, so the same series has the same colour
 * in every chart of a run.
 */
public final class Charts {
    private static final Color[] PALETTE = {
        new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728), new Color(0x9467bd)};

    static {
        // Before the first AWT class loads: there is no display on a server.
        System.setProperty("java.awt.headless", "true");
    }

    private Charts() {
    }

    /** A bar chart: one group of bars per category, one bar per series. */
    public record Bars(String title, String categoryLabel, String valueLabel, List<String> categories,
                       Map<String, List<Double>> series, boolean logScale) {
        public Bars {
            series = new LinkedHashMap<>(series);
            categories = List.copyOf(categories);
            for (Map.Entry<String, List<Double>> s : series.entrySet()) {
                if (s.getValue().size() != categories.size()) {
                    throw new IllegalArgumentException("series " + s.getKey() + " has " + s.getValue().size()
                            + " values for " + categories.size() + " categories");
                }
            }
        }
    }

    /** Writes {@code bars} to {@code file} (PNG, {@code width} × {@code height} pixels). */
    public static void write(Path file, Bars bars, int width, int height) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        ChartUtils.saveChartAsPNG(file.toFile(), chart(bars), width, height);
    }

    static JFreeChart chart(Bars bars) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        double smallest = Double.MAX_VALUE;
        for (Map.Entry<String, List<Double>> s : bars.series().entrySet()) {
            for (int i = 0; i < bars.categories().size(); i++) {
                Double v = s.getValue().get(i);
                // A missing figure (a failed query) stays a gap rather than a zero bar.
                boolean usable = v != null && !v.isNaN() && (!bars.logScale() || v > 0);
                data.addValue(usable ? v : null, s.getKey(), bars.categories().get(i));
                if (usable && v > 0) {
                    smallest = Math.min(smallest, v);
                }
            }
        }
        JFreeChart chart = ChartFactory.createBarChart(bars.title(), bars.categoryLabel(), bars.valueLabel(), data,
                PlotOrientation.VERTICAL, true, false, false);
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(new Color(0xcccccc));
        plot.setRangeGridlineStroke(new BasicStroke(0.8f));
        CategoryAxis categories = plot.getDomainAxis();
        if (bars.categories().size() > 12) {
            categories.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        }
        categories.setCategoryMargin(0.15);
        categories.setMaximumCategoryLabelLines(2);
        if (bars.logScale()) {
            LogAxis log = new LogAxis(bars.valueLabel());
            // One tick per decade, labelled 1, 10, 100 rather than 10^2.
            log.setTickUnit(new NumberTickUnit(1.0));
            log.setNumberFormatOverride(new DecimalFormat("#,##0.###"));
            log.setSmallestValue(smallest == Double.MAX_VALUE ? 0.001 : smallest / 2);
            plot.setRangeAxis(log);
        }
        BarRenderer renderer = (BarRenderer) plot.getRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setItemMargin(0.02);
        if (bars.logScale()) {
            // Bars grow from the axis' lower end, not from 0, which a log axis cannot show.
            renderer.setBase(smallest == Double.MAX_VALUE ? 0.001 : smallest / 2);
        }
        for (int i = 0; i < bars.series().size(); i++) {
            renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
        }
        return chart;
    }
}
