package io.pgtrickle.core.schedule;

import io.pgtrickle.core.catalog.Catalog;
import io.pgtrickle.core.catalog.Status;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.refresh.RefreshTrigger;
import io.pgtrickle.core.refresh.Refresher;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refreshes stream tables when they are due, upstream before downstream. Each tick reads the
 * catalog, resolves CALCULATED schedules, and refreshes the due ones in topological order. A
 * failing stream table backs off (and is eventually suspended) without holding up the others.
 */
public final class Scheduler implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(Scheduler.class);

    private final DataSource dataSource;
    private final Catalog catalog;
    private final Refresher refresher;
    private final Duration tick;
    private final List<Housekeeping> housekeeping = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pgtrickle-scheduler");
        t.setDaemon(true);
        return t;
    });

    public Scheduler(DataSource dataSource, Catalog catalog, Refresher refresher, Duration tick) {
        this.dataSource = dataSource;
        this.catalog = catalog;
        this.refresher = refresher;
        this.tick = tick;
    }

    /** Work done at the start of every tick, before refreshes (e.g. reacting to source changes). */
    @FunctionalInterface
    public interface Housekeeping {
        void run() throws SQLException;
    }

    public void addHousekeeping(Housekeeping task) {
        housekeeping.add(task);
    }

    public void start() {
        executor.scheduleWithFixedDelay(this::tickSafely, 0, tick.toMillis(), TimeUnit.MILLISECONDS);
    }

    private void tickSafely() {
        try {
            runOnce();
        } catch (RuntimeException | SQLException e) {
            log.warn("scheduler tick failed (will retry): {}", e.getMessage());
        }
    }

    /**
     * One pass: refreshes every due stream table, after confirming in one step those whose sources
     * have nothing new ({@link Refresher#confirmIdle}); returns the ids refreshed or confirmed
     * current, in order.
     */
    public List<Long> runOnce() throws SQLException {
        for (Housekeeping task : housekeeping) {
            task.run();
        }
        List<StreamTableRecord> all;
        Map<Long, java.util.Set<Long>> upstream;
        Instant now;
        try (Connection c = dataSource.getConnection()) {
            all = catalog.all(c);
            upstream = catalog.upstreamStreamTables(c);
            try (var s = c.createStatement(); var rs = s.executeQuery("SELECT clock_timestamp()")) {
                rs.next();
                now = rs.getObject(1, Timestamp.class).toInstant();
            }
        }
        Map<Long, StreamTableRecord> byId = new HashMap<>();
        Map<Long, Schedule> schedules = new HashMap<>();
        all.forEach(st -> {
            byId.put(st.id(), st);
            schedules.put(st.id(), st.schedule());
        });
        DependencyGraph graph = new DependencyGraph(byId.keySet(), upstream);
        Map<Long, Optional<Duration>> effective = EffectiveSchedules.compute(schedules, graph);
        List<Long> due = new ArrayList<>();
        for (long id : graph.topologicalOrder()) {
            if (isDue(byId.get(id), effective.get(id), now)) {
                due.add(id);
            }
        }
        Set<Long> idle = confirmIdle(due);
        // Stream tables refreshed with work in this tick: their dependants confirmed idle before it
        // (at a snapshot older than the new rows) are refreshed too, so a change still cascades in one tick.
        Set<Long> worked = new HashSet<>();
        List<Long> refreshed = new ArrayList<>();
        for (long id : due) {
            if (idle.contains(id) && upstream.getOrDefault(id, Set.of()).stream().noneMatch(worked::contains)) {
                refreshed.add(id);
                continue;
            }
            StreamTableRecord st = byId.get(id);
            try {
                refresher.refresh(id, RefreshTrigger.SCHEDULE);
                refreshed.add(id);
                worked.add(id);
            } catch (PgTrickleException e) {
                // Recorded by the refresher; the others go on.
                log.debug("scheduled refresh of {} failed: {}", st.name(), e.getMessage());
            }
        }
        return refreshed;
    }

    /** The due stream tables confirmed current without a refresh; none when the confirmation fails. */
    private Set<Long> confirmIdle(List<Long> due) {
        try {
            return refresher.confirmIdle(due);
        } catch (RuntimeException e) {
            // Not fatal: every due stream table then takes the normal path, which reports its own errors.
            log.debug("confirming idle stream tables failed: {}", e.getMessage());
            return Set.of();
        }
    }

    static boolean isDue(StreamTableRecord st, Optional<Duration> interval, Instant now) {
        if (st.status() == Status.SUSPENDED || interval.isEmpty()) {
            return false;
        }
        if (st.nextAttemptAt() != null && now.isBefore(st.nextAttemptAt().toInstant())) {
            return false;
        }
        if (st.status() == Status.ERROR) {
            return true;
        }
        return st.lastRefreshAt() == null
                || !now.isBefore(st.lastRefreshAt().toInstant().plus(interval.get()));
    }

    /** Lets a running tick finish (so no refresh is cut off and recorded as failed), then stops. */
    @Override
    public void close() {
        executor.shutdown();
        try {
            if (!executor.awaitTermination(60, TimeUnit.SECONDS)) {
                executor.shutdownNow();
            }
        } catch (InterruptedException e) {
            executor.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
