package io.pgtrickle.core.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The engine as Micrometer gauges, read from the catalog every {@link #PERIOD}, so they show the
 * engine whichever process hosts it (the daemon, the relay, or neither):
 * <ul>
 *   <li>per stream table ({@code stream_table}), from {@code pgt_refresh_history} and
 *       {@code pgt_status()}: refreshes and failed refreshes in the last 5 minutes, their mean and
 *       longest duration, rows they inserted and deleted, staleness, consecutive errors;</li>
 *   <li>per captured source ({@code source}), from {@code change_buffer_sizes()}: rows and bytes
 *       waiting in its change buffer, and the capture lag (age of its oldest unconsumed change,
 *       0 when none waits);</li>
 *   <li>per replication slot ({@code slot}), from {@code slot_health()} (WAL capture only): WAL
 *       retained since its restart LSN, and bytes not yet confirmed.</li>
 * </ul>
 */
public final class EngineMetrics implements AutoCloseable {
    /** How often the catalog is read. */
    public static final Duration PERIOD = Duration.ofSeconds(10);
    private static final Logger log = LoggerFactory.getLogger(EngineMetrics.class);

    private static final String REFRESHES = """
            SELECT s.name, coalesce(h.refreshes, 0), coalesce(h.failed, 0), coalesce(h.mean_ms, 0), coalesce(h.max_ms, 0),
                   coalesce(h.inserted, 0), coalesce(h.deleted, 0),
                   coalesce(extract(epoch FROM s.staleness), 0), coalesce(s.consecutive_errors, 0)
              FROM pgtrickle.pgt_status() s
              LEFT JOIN (SELECT quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) AS name, count(*) AS refreshes,
                                count(*) FILTER (WHERE status <> 'SUCCESS') AS failed,
                                avg(extract(epoch FROM finished_at - started_at) * 1000) AS mean_ms,
                                max(extract(epoch FROM finished_at - started_at) * 1000) AS max_ms,
                                sum(rows_inserted) AS inserted, sum(rows_deleted) AS deleted
                           FROM pgtrickle.pgt_refresh_history
                          WHERE started_at > now() - interval '5 minutes' GROUP BY 1) h ON h.name = s.name""";
    private static final String BUFFERS = """
            SELECT source, pending_rows, buffer_bytes,
                   coalesce(extract(epoch FROM clock_timestamp() - oldest_change_at), 0)
              FROM pgtrickle.change_buffer_sizes()""";
    private static final String SLOTS = """
            SELECT slot_name, coalesce(retained_wal_bytes, 0), coalesce(lag_bytes, 0) FROM pgtrickle.slot_health()""";

    private static final String OUTBOXES = """
            SELECT quote_ident(s.pgt_schema) || '.' || quote_ident(s.pgt_name), count(o.outbox_offset),
                   coalesce(sum(o.row_count), 0)
              FROM pgtrickle.pgt_outbox_config c
              JOIN pgtrickle.pgt_stream_tables s ON s.pgt_id = c.pgt_id
              LEFT JOIN pgtrickle.pgt_outbox o ON o.pgt_id = c.pgt_id
             GROUP BY 1""";
    private static final String CONSUMER_GROUPS = """
            SELECT group_name, coalesce(entries_pending, 0), coalesce(changes_pending, 0)
              FROM pgtrickle._consumer_group_report()""";

    private final DataSource dataSource;
    private final List<CatalogGauges> groups;
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pgtrickle-engine-metrics");
        t.setDaemon(true);
        return t;
    });

    /** Registers the gauges and starts reading the catalog through {@code dataSource}. */
    public EngineMetrics(MeterRegistry registry, DataSource dataSource) {
        this.dataSource = dataSource;
        groups = List.of(
                new CatalogGauges(registry, "stream_table", REFRESHES, List.of(
                        gauge("refreshes_5m", "refreshes in the last 5 minutes"),
                        gauge("failed_refreshes_5m", "failed refreshes in the last 5 minutes"),
                        gauge("refresh_mean_ms_5m", "mean refresh time, last 5 minutes"),
                        gauge("refresh_max_ms_5m", "longest refresh, last 5 minutes"),
                        gauge("rows_inserted_5m", "rows refreshes inserted, last 5 minutes"),
                        gauge("rows_deleted_5m", "rows refreshes deleted, last 5 minutes"),
                        gauge("staleness_seconds", "age of the stream table's data"),
                        gauge("consecutive_errors", "refresh errors since the last success"))),
                new CatalogGauges(registry, "source", BUFFERS, List.of(
                        gauge("change_buffer_rows", "captured changes not yet consumed by every reader"),
                        gauge("change_buffer_bytes", "size of the source's change buffer table"),
                        gauge("capture_lag_seconds", "age of the oldest unconsumed change (0 when none)"))),
                new CatalogGauges(registry, "slot", SLOTS, List.of(
                        gauge("slot_retained_wal_bytes", "WAL the replication slot keeps (since restart_lsn)"),
                        gauge("slot_lag_bytes", "WAL not yet confirmed by capture (since confirmed_flush_lsn)"))),
                new CatalogGauges(registry, "stream_table", OUTBOXES, List.of(
                        gauge("outbox_entries", "entries the stream table's outbox retains"),
                        gauge("outbox_rows", "changed rows in those entries"))),
                new CatalogGauges(registry, "consumer_group", CONSUMER_GROUPS, List.of(
                        gauge("consumer_group_pending_entries", "outbox entries the group has not committed"),
                        gauge("consumer_group_pending_rows", "changed rows in those entries"))));
        timer.scheduleWithFixedDelay(this::update, 0, PERIOD.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static CatalogGauges.Gauge gauge(String name, String description) {
        return new CatalogGauges.Gauge("pgtrickle_engine_" + name, description);
    }

    /** Reads the catalog now (the timer does so every {@link #PERIOD}). */
    public synchronized void update() {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(true);
            for (CatalogGauges g : groups) {
                // Each on its own: a group that cannot be read (no slot privileges, an older
                // catalog) leaves the others current.
                try {
                    g.update(c);
                } catch (SQLException | RuntimeException e) {
                    log.debug("cannot read engine metrics: {}", e.getMessage());
                }
            }
        } catch (SQLException | RuntimeException e) {
            log.debug("cannot read the engine's catalog for metrics: {}", e.getMessage());
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
    }
}
