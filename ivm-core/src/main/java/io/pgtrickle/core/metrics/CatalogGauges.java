package io.pgtrickle.core.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Gauges filled from one catalog query: its first column is the value of {@code tag}, each further
 * column the value of one gauge. Rows that disappear (a dropped stream table) drop their series.
 */
final class CatalogGauges {
    /** A gauge, read from the query's column at its position in the list (after the tag). */
    record Gauge(String name, String description) {
    }

    private final String tag;
    private final String sql;
    private final List<MultiGauge> gauges = new ArrayList<>();

    CatalogGauges(MeterRegistry registry, String tag, String sql, List<Gauge> gauges) {
        this.tag = tag;
        this.sql = sql;
        for (Gauge g : gauges) {
            this.gauges.add(MultiGauge.builder(g.name()).description(g.description()).register(registry));
        }
    }

    void update(Connection c) throws SQLException {
        List<List<MultiGauge.Row<?>>> rows = new ArrayList<>();
        gauges.forEach(g -> rows.add(new ArrayList<>()));
        try (PreparedStatement ps = c.prepareStatement(sql); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Tags tags = Tags.of(tag, rs.getString(1));
                for (int i = 0; i < gauges.size(); i++) {
                    rows.get(i).add(MultiGauge.Row.of(tags, rs.getDouble(i + 2)));
                }
            }
        }
        for (int i = 0; i < gauges.size(); i++) {
            gauges.get(i).register(rows.get(i), true);
        }
    }
}
