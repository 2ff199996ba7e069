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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
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
    private final int maxConcurrent;
    private final List<Housekeeping> housekeeping = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "pgtrickle-scheduler");
        t.setDaemon(true);
        return t;
    });
    /** The refreshes of a tick, beside the scheduler thread (none when they run one by one). */
    private final ExecutorService workers;
    /** Held while a tick runs: {@link #drain} waits on it. */
    private final ReentrantLock ticking = new ReentrantLock();
    private volatile boolean drained;
    private volatile boolean tiered;
    /** Per stream table: due checks in a row that found nothing to do (confirmed idle). */
    private final Map<Long, Integer> idleStreak = new java.util.concurrent.ConcurrentHashMap<>();
    /** Per cold stream table: due checks skipped since its last one. */
    private final Map<Long, Integer> skipped = new java.util.concurrent.ConcurrentHashMap<>();
    /** Idle checks in a row after which a stream table is checked every {@link #COLD_PERIOD}th time it is due. */
    static final int COLD_AFTER = 8;
    /** {@link #COLD_AFTER}, for benchmarks that wait for the tiers' steady state. */
    public static final int COLD_AFTER_CHECKS = COLD_AFTER;
    static final int COLD_PERIOD = 4;
    /** ... and after which every {@link #COLDER_PERIOD}th time. */
    static final int COLDER_AFTER = 64;
    static final int COLDER_PERIOD = 8;

    public Scheduler(DataSource dataSource, Catalog catalog, Refresher refresher, Duration tick) {
        this(dataSource, catalog, refresher, tick, 1);
    }

    /** @param maxConcurrent how many stream tables may refresh at once (dependants after their sources) */
    public Scheduler(DataSource dataSource, Catalog catalog, Refresher refresher, Duration tick, int maxConcurrent) {
        this.dataSource = dataSource;
        this.catalog = catalog;
        this.refresher = refresher;
        this.tick = tick;
        this.maxConcurrent = maxConcurrent;
        AtomicInteger n = new AtomicInteger();
        this.workers = maxConcurrent <= 1 ? null : Executors.newFixedThreadPool(maxConcurrent, r -> {
            Thread t = new Thread(r, "pgtrickle-refresh-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
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
        ticking.lock();
        try {
            return tickLocked();
        } finally {
            ticking.unlock();
        }
    }

    private List<Long> tickLocked() throws SQLException {
        for (Housekeeping task : housekeeping) {
            task.run();
        }
        List<StreamTableRecord> all;
        Map<Long, java.util.Set<Long>> upstream;
        Instant now;
        boolean pausedInCatalog;
        List<List<Long>> atomicGroups;
        try (Connection c = dataSource.getConnection()) {
            all = catalog.all(c);
            upstream = catalog.upstreamStreamTables(c);
            try (var s = c.createStatement();
                 var rs = s.executeQuery("SELECT clock_timestamp(), pgtrickle._refreshes_paused()")) {
                rs.next();
                now = rs.getObject(1, Timestamp.class).toInstant();
                pausedInCatalog = rs.getBoolean(2);
            }
            atomicGroups = DiamondGroups.atomic(c);
        }
        Map<Long, StreamTableRecord> byId = new HashMap<>();
        Map<Long, Schedule> schedules = new HashMap<>();
        all.forEach(st -> {
            byId.put(st.id(), st);
            schedules.put(st.id(), st.schedule());
        });
        DependencyGraph graph = new DependencyGraph(byId.keySet(), upstream);
        Map<Long, Optional<Duration>> effective = EffectiveSchedules.compute(schedules, graph);
        List<Long> order = graph.topologicalOrder();
        Set<Long> dueIds = new HashSet<>();
        for (int i = order.size() - 1; i >= 0; i--) { // readers first: a due cron reader pulls in its CALCULATED sources
            long id = order.get(i);
            StreamTableRecord st = byId.get(id);
            boolean pulled = st.schedule() instanceof Schedule.Calculated && graph.downstreamOf(id).stream()
                    .anyMatch(r -> dueIds.contains(r) && (byId.get(r).schedule() instanceof CronSchedule
                            || byId.get(r).schedule() instanceof Schedule.Calculated));
            if (isDue(st, effective.get(id), now) || (pulled && mayRun(st, now))) {
                dueIds.add(id);
            }
        }
        if (tiered) {
            dueIds.removeAll(coldAndSkipped(dueIds, byId, graph));
        }
        idleStreak.keySet().retainAll(byId.keySet());
        skipped.keySet().retainAll(byId.keySet());
        List<Unit> units = Unit.plan(order, dueIds, atomicGroups, id -> mayRun(byId.get(id), now));
        if (units.isEmpty() || drained || pausedInCatalog) {
            return List.of();
        }
        Set<Long> idle = confirmIdle(units.stream().flatMap(u -> u.ids().stream()).toList());
        return workers == null ? refreshInOrder(units, idle, upstream) : refreshConcurrently(units, idle, upstream);
    }

    /**
     * Tiers: the due stream tables not checked this time. One whose last {@link #COLD_AFTER} checks
     * found nothing is checked every {@link #COLD_PERIOD}th time it is due, after
     * {@link #COLDER_AFTER} every {@link #COLDER_PERIOD}th; any refresh with work puts it back.
     * Never skipped: a cron schedule (its firing is the point), one in error or never refreshed,
     * and one that reads a stream table due now (a change could cascade through it in this tick).
     */
    private Set<Long> coldAndSkipped(Set<Long> dueIds, Map<Long, StreamTableRecord> byId, DependencyGraph graph) {
        Set<Long> out = new HashSet<>();
        for (long id : dueIds) {
            StreamTableRecord st = byId.get(id);
            int streak = idleStreak.getOrDefault(id, 0);
            if (streak < COLD_AFTER || st.schedule() instanceof CronSchedule || st.status() == Status.ERROR
                    || st.lastRefreshAt() == null || graph.upstreamOf(id).stream().anyMatch(dueIds::contains)) {
                continue;
            }
            int period = streak >= COLDER_AFTER ? COLDER_PERIOD : COLD_PERIOD;
            // Staggered by id: stream tables that went cold together are not all checked in one tick.
            int skips = skipped.getOrDefault(id, (int) Math.floorMod(id, (long) period));
            if (skips + 1 < period) {
                skipped.put(id, skips + 1);
                out.add(id);
            } else {
                skipped.put(id, 0); // checked now; the stagger applies only when it turns cold
            }
        }
        return out;
    }

    /** Remembers what a unit's check found, for the tiers. */
    private void record(Unit unit, Outcome outcome) {
        for (long id : unit.ids()) {
            if (outcome == Outcome.CONFIRMED) {
                idleStreak.merge(id, 1, Integer::sum);
            } else if (outcome != Outcome.PAUSED) {
                idleStreak.remove(id);
                skipped.remove(id);
            }
        }
    }

    /**
     * Whether due stream tables whose sources have not changed for a while are checked less often
     * (see {@link #coldAndSkipped}); off by default.
     */
    public void setTiered(boolean on) {
        tiered = on;
    }

    /** One by one, in topological order. */
    private List<Long> refreshInOrder(List<Unit> units, Set<Long> idle, Map<Long, Set<Long>> upstream) {
        // Stream tables refreshed with work in this tick: their dependants confirmed idle before it
        // (at a snapshot older than the new rows) are refreshed too, so a change still cascades in one tick.
        Set<Long> worked = new HashSet<>();
        List<Long> refreshed = new ArrayList<>();
        for (Unit unit : units) {
            boolean upstreamWorked = unit.upstream(upstream).stream().anyMatch(worked::contains);
            Outcome outcome = runOne(unit, idle.containsAll(unit.ids()) && !upstreamWorked);
            record(unit, outcome);
            if (outcome == Outcome.PAUSED) {
                break;
            }
            if (outcome != Outcome.FAILED) {
                refreshed.addAll(unit.ids());
            }
            if (outcome == Outcome.REFRESHED) {
                worked.addAll(unit.ids());
            }
        }
        return refreshed;
    }

    /**
     * Up to {@code maxConcurrent} at once: each starts when the stream tables it reads that are due
     * in this tick have finished (failed ones too, as one by one), so dependants still follow their
     * sources within the tick. Returns the ids refreshed or confirmed, in the order they finished.
     */
    private List<Long> refreshConcurrently(List<Unit> units, Set<Long> idle, Map<Long, Set<Long>> upstream) {
        Map<Long, CompletableFuture<Outcome>> done = new HashMap<>();
        List<CompletableFuture<Outcome>> all = new ArrayList<>();
        List<Long> refreshed = java.util.Collections.synchronizedList(new ArrayList<>());
        for (Unit unit : units) { // topological: every due source is already in done
            List<CompletableFuture<Outcome>> sources = unit.upstream(upstream).stream()
                    .map(done::get).filter(java.util.Objects::nonNull).toList();
            CompletableFuture<Outcome> run = CompletableFuture.allOf(sources.toArray(new CompletableFuture[0]))
                    .thenApplyAsync(v -> {
                        boolean upstreamWorked = sources.stream().anyMatch(f -> f.join() == Outcome.REFRESHED);
                        Outcome outcome = runOne(unit, idle.containsAll(unit.ids()) && !upstreamWorked);
                        record(unit, outcome);
                        if (outcome == Outcome.REFRESHED || outcome == Outcome.CONFIRMED) {
                            refreshed.addAll(unit.ids());
                        }
                        return outcome;
                    }, workers);
            unit.ids().forEach(id -> done.put(id, run));
            all.add(run);
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).join();
        return new ArrayList<>(refreshed);
    }

    private enum Outcome { REFRESHED, CONFIRMED, FAILED, PAUSED }

    private Outcome runOne(Unit unit, boolean confirmedIdle) {
        if (confirmedIdle) {
            return Outcome.CONFIRMED;
        }
        if (paused()) {
            return Outcome.PAUSED; // drained meanwhile: no new refresh starts
        }
        try {
            if (unit.ids().size() == 1) {
                refresher.refresh(unit.ids().get(0), RefreshTrigger.SCHEDULE);
            } else {
                refresher.refreshTogether(unit.ids(), RefreshTrigger.SCHEDULE);
            }
            return Outcome.REFRESHED;
        } catch (PgTrickleException e) {
            // Recorded by the refresher; the others go on.
            log.debug("scheduled refresh of {} failed: {}", unit.ids(), e.getMessage());
            return Outcome.FAILED;
        } catch (RuntimeException e) {
            log.warn("scheduled refresh of {} failed: {}", unit.ids(), e.getMessage());
            return Outcome.FAILED;
        }
    }

    /**
     * Whether refreshes are paused: by {@link #drain} in this engine, or in the catalog by
     * {@code pgtrickle.drain()} (also while that call still waits).
     */
    private boolean paused() {
        if (drained) {
            return true;
        }
        try (Connection c = dataSource.getConnection()) {
            return Boolean.TRUE.equals(io.pgtrickle.core.sql.Jdbc.queryValue(c, Boolean.class,
                    "SELECT pgtrickle._refreshes_paused()"));
        } catch (SQLException e) {
            log.debug("could not read whether refreshes are paused: {}", e.getMessage());
            return false;
        }
    }

    /**
     * Starts no new refresh in this engine and waits up to {@code timeout} for the one in flight
     * (and its tick) to finish; true when quiet. Not recorded in the catalog: {@link #resume}, or a
     * restart, lets refreshes start again.
     */
    public boolean drain(Duration timeout) throws InterruptedException {
        drained = true;
        if (ticking.tryLock(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            ticking.unlock();
            return true;
        }
        return false;
    }

    /** Lets refreshes start again after {@link #drain}. */
    public void resume() {
        drained = false;
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
        if (interval.isEmpty() || !mayRun(st, now)) {
            return false;
        }
        if (st.status() == Status.ERROR) {
            return true;
        }
        Instant last = st.lastRefreshAt() == null ? null : st.lastRefreshAt().toInstant();
        if (st.schedule() instanceof CronSchedule cron) {
            return cron.dueAt(last, now);
        }
        return last == null || !now.isBefore(last.plus(interval.get()));
    }

    /** Not suspended, and not backing off after a failure. */
    private static boolean mayRun(StreamTableRecord st, Instant now) {
        return st.status() != Status.SUSPENDED
                && (st.nextAttemptAt() == null || !now.isBefore(st.nextAttemptAt().toInstant()));
    }

    /** Lets a running tick finish (so no refresh is cut off and recorded as failed), then stops. */
    @Override
    public void close() {
        if (workers != null) {
            workers.shutdown();
        }
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
