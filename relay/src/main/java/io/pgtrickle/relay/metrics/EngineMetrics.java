package io.pgtrickle.relay.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine's refreshes as the relay's metrics, per stream table, read from
 * {@code pgt_refresh_history} and {@code pgt_status()} every {@link #PERIOD}: refreshes and
 * failures in the last 5 minutes, their mean and longest duration, staleness and consecutive
 * errors. Read from the catalog, so they show the engine whether the relay hosts it or not.
 */
public final class EngineMetrics implements AutoCloseable {
    static final Duration PERIOD = Duration.ofSeconds(10);
    private static final Logger log = LoggerFactory.getLogger(EngineMetrics.class);
    private static final String SQL = """
            SELECT s.name, coalesce(h.refreshes, 0), coalesce(h.failed, 0), coalesce(h.mean_ms, 0), coalesce(h.max_ms, 0),
                   coalesce(extract(epoch FROM s.staleness), 0), coalesce(s.consecutive_errors, 0)
              FROM pgtrickle.pgt_status() s
              LEFT JOIN (SELECT quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) AS name, count(*) AS refreshes,
                                count(*) FILTER (WHERE status <> 'SUCCESS') AS failed,
                                avg(extract(epoch FROM finished_at - started_at) * 1000) AS mean_ms,
                                max(extract(epoch FROM finished_at - started_at) * 1000) AS max_ms
                           FROM pgtrickle.pgt_refresh_history
                          WHERE started_at > now() - interval '5 minutes' GROUP BY 1) h ON h.name = s.name""";

    private final DataSource dataSource;
    private final MultiGauge refreshes;
    private final MultiGauge failed;
    private final MultiGauge meanMs;
    private final MultiGauge maxMs;
    private final MultiGauge staleness;
    private final MultiGauge errors;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pgtrickle-relay-engine-metrics");
        t.setDaemon(true);
        return t;
    });

    public EngineMetrics(MeterRegistry registry, DataSource dataSource) {
        this.dataSource = dataSource;
        refreshes = gauge(registry, "pgtrickle_engine_refreshes_5m", "refreshes in the last 5 minutes");
        failed = gauge(registry, "pgtrickle_engine_failed_refreshes_5m", "failed refreshes in the last 5 minutes");
        meanMs = gauge(registry, "pgtrickle_engine_refresh_mean_ms_5m", "mean refresh time, last 5 minutes");
        maxMs = gauge(registry, "pgtrickle_engine_refresh_max_ms_5m", "longest refresh, last 5 minutes");
        staleness = gauge(registry, "pgtrickle_engine_staleness_seconds", "age of the stream table's data");
        errors = gauge(registry, "pgtrickle_engine_consecutive_errors", "refresh errors since the last success");
        timer.scheduleWithFixedDelay(this::update, 0, PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static MultiGauge gauge(MeterRegistry registry, String name, String description) {
        return MultiGauge.builder(name).description(description).register(registry);
    }

    void update() {
        List<MultiGauge.Row<?>> r = new ArrayList<>();
        List<MultiGauge.Row<?>> f = new ArrayList<>();
        List<MultiGauge.Row<?>> mean = new ArrayList<>();
        List<MultiGauge.Row<?>> max = new ArrayList<>();
        List<MultiGauge.Row<?>> stale = new ArrayList<>();
        List<MultiGauge.Row<?>> err = new ArrayList<>();
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(SQL);
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                Tags tags = Tags.of("stream_table", rs.getString(1));
                r.add(MultiGauge.Row.of(tags, rs.getDouble(2)));
                f.add(MultiGauge.Row.of(tags, rs.getDouble(3)));
                mean.add(MultiGauge.Row.of(tags, rs.getDouble(4)));
                max.add(MultiGauge.Row.of(tags, rs.getDouble(5)));
                stale.add(MultiGauge.Row.of(tags, rs.getDouble(6)));
                err.add(MultiGauge.Row.of(tags, rs.getDouble(7)));
            }
        } catch (SQLException | RuntimeException e) {
            log.debug("cannot read the engine's refresh history: {}", e.getMessage());
            return;
        }
        refreshes.register(r, true);
        failed.register(f, true);
        meanMs.register(mean, true);
        maxMs.register(max, true);
        staleness.register(stale, true);
        errors.register(err, true);
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
