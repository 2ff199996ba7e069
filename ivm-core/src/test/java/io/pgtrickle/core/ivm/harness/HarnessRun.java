package io.pgtrickle.core.ivm.harness;

import io.pgtrickle.core.outbox.OutboxReplay;
import io.pgtrickle.core.outbox.Outboxes;
import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.lifecycle.RefreshMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.refresh.RefreshResult;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.BiConsumer;
import java.util.function.Function;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One randomized run over one workload: seeds the sources, creates the shapes' stream tables,
 * then cycles — a random batch of changes, a refresh of every shape, and after each refresh the
 * checks: the refresh did what the mode promises, the stream table equals its query as a
 * multiset, and no hidden count is negative. Every failure names the run, seed, cycle, shape,
 * mode and the batch.
 */
public final class HarnessRun implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(HarnessRun.class);
    private static final String CREATING = "  (none: creating the stream table)";

    private final String label;
    private final StreamTables api;
    private final Workload workload;
    private final Budget budget;
    private final Random random;
    private final Connection c;
    private final Map<String, Target> targets = new LinkedHashMap<>();
    private final TestDatabase db;
    private final Outboxes outboxes;
    /** Per stream table, its outbox replayed so far (the outbox invariant, checked after every refresh). */
    private final Map<String, OutboxReplay> replays = new java.util.HashMap<>();
    private final Map<String, Integer> actions = new TreeMap<>();
    private final List<String> skipped = new ArrayList<>();
    private final long startNanos = System.nanoTime();
    private int cycle;

    /** A shape as this run maintains it: the mode asked for and what its storage table looks like. */
    public record Target(Shape shape, RefreshMode requested, String storageSelect, List<String> hiddenCounts) {
    }

    private HarnessRun(String label, TestDatabase db, StreamTables api, Workload workload, Budget budget) throws SQLException {
        this.label = label;
        this.api = api;
        this.workload = workload;
        this.budget = budget;
        this.random = budget.random(label);
        this.c = db.connect();
        this.db = db;
        org.postgresql.ds.PGSimpleDataSource outboxSource = new org.postgresql.ds.PGSimpleDataSource();
        outboxSource.setURL(db.jdbcUrl());
        this.outboxes = new Outboxes(outboxSource);
    }

    /**
     * Starts a run from a clean slate: no stream tables, the workload's tables emptied and seeded
     * from the run's own random numbers (so a run does not depend on which ran before it).
     */
    public static HarnessRun start(String label, TestDatabase db, StreamTables api, Workload workload, Budget budget) {
        HarnessRun run;
        try {
            run = new HarnessRun(label, db, api, workload, budget);
        } catch (SQLException e) {
            throw new IllegalStateException(label + ": cannot connect: " + e.getMessage(), e);
        }
        EngineFixture.dropAllStreamTables(api);
        try (Statement s = run.c.createStatement()) {
            s.execute("TRUNCATE " + String.join(", ", workload.tables()));
            for (String sql : workload.seed(run.random)) {
                s.execute(sql);
            }
            return run;
        } catch (SQLException e) {
            run.close();
            throw new IllegalStateException(label + ": cannot seed workload " + workload.name() + ": " + e.getMessage(), e);
        }
    }

    public String label() {
        return label;
    }

    public Budget budget() {
        return budget;
    }

    public List<Target> targets() {
        return List.copyOf(targets.values());
    }

    /** Creates every shape of the workload in the mode {@code modeOf} picks for it. */
    public void createAll(Function<Shape, RefreshMode> modeOf) {
        createWithUpstream(workload.shapes(), modeOf, RefreshMode.FULL);
    }

    /**
     * Creates {@code chosen} in the modes {@code modeOf} picks, after the shapes whose stream
     * tables they read (those in {@code upstreamMode}). Shapes with a known bug in differential
     * maintenance ({@link ExpectedModes#knownBug}) are left out unless they would refresh FULL.
     */
    public void createWithUpstream(List<Shape> chosen, Function<Shape, RefreshMode> modeOf, RefreshMode upstreamMode) {
        Set<Shape> needed = new LinkedHashSet<>(chosen);
        for (boolean grew = true; grew; ) {
            grew = false;
            for (Shape reader : List.copyOf(needed)) {
                for (Shape source : workload.shapes()) {
                    if (source != reader && Pattern.compile("\\b" + source.name() + "\\b")
                            .matcher(reader.sql()).find()) {
                        grew |= needed.add(source);
                    }
                }
            }
        }
        for (Shape shape : workload.shapes()) {
            if (!needed.contains(shape)) {
                continue;
            }
            RefreshMode mode = chosen.contains(shape) ? modeOf.apply(shape) : upstreamMode;
            String bug = ExpectedModes.knownBug(shape.name());
            if (bug != null && shape.expectedEffectiveMode(mode) != RefreshMode.FULL) {
                log.warn("{}: shape {} left out in {} mode, known bug: {}", label, shape.name(), mode, bug);
                skipped.add(shape.name());
                continue;
            }
            create(shape, mode);
        }
    }

    /** Creates a shape's stream table and checks the engine chose the mode the shape's flag promises. */
    public void create(Shape shape, RefreshMode requested) {
        StreamTableRecord st;
        try {
            st = api.create(StreamTableSpec.parse(shape.name(), shape.sql(), "calculated", requested.name()));
        } catch (RuntimeException e) {
            throw new AssertionError(context(shape, requested, CREATING) + "\ncreate failed: " + e.getMessage()
                    + flagHint(shape), e);
        }
        expectEffectiveMode(shape, requested, st, CREATING);
        Target target = inspect(shape, requested);
        if (requested == RefreshMode.IMMEDIATE) {
            return; // its triggers write no outbox (enable_outbox refuses it)
        }
        // A small inline threshold: entries go inline and to the side table.
        outboxes.enable(shape.name(), 24, 50);
        replays.put(shape.name(), new OutboxReplay());
        checkOutbox(target, CREATING);
    }

    /** Switches a shape's refresh mode (the switch refills it), then checks the result at once. */
    public void alter(Shape shape, RefreshMode to, Batch lastBatch) {
        StreamTableRecord st;
        try {
            st = api.alter(shape.name(), AlterSpec.none().withRefreshMode(to.name()));
        } catch (RuntimeException e) {
            throw new AssertionError(context(shape, to, lastBatch.describe()) + "\nalter to " + to + " failed: " + e.getMessage(), e);
        }
        expectEffectiveMode(shape, to, st, lastBatch.describe());
        Target target = inspect(shape, to);
        checkContents(target, lastBatch.describe());
        checkOutbox(target, lastBatch.describe());
    }

    /**
     * Cycles while the budget lasts: a random batch, then every shape refreshed and checked.
     *
     * @param between called after each cycle with the cycle number (a mode switch, say), or {@code null}
     * @return the number of cycles done
     */
    public int cycle(BiConsumer<Integer, Batch> between) {
        int done = 0;
        long start = System.nanoTime();
        while (budget.more(done, start)) {
            cycle++;
            Batch batch = applyRandomBatch();
            // IMMEDIATE: exact once the batch commits, before any refresh
            for (Target target : targets.values()) {
                if (target.requested() == RefreshMode.IMMEDIATE) {
                    checkContents(target, batch.describe() + "\n  (IMMEDIATE, checked before any refresh)");
                }
            }
            refreshAll(batch);
            if (between != null) {
                between.accept(cycle, batch);
            }
            done++;
        }
        return done;
    }

    public Batch applyRandomBatch() {
        Batch batch = workload.randomBatch(random);
        try {
            batch.applyTo(c);
        } catch (SQLException e) {
            // The workload's DML is written never to fail on its own: this is a harness bug.
            throw new AssertionError(label + " (" + budget + ", cycle " + cycle + "): batch failed: " + e.getMessage() + "\n"
                    + batch.describe(), e);
        }
        return batch;
    }

    /**
     * Refreshes every shape in creation order (a stream table after those it reads), checking each.
     *
     * @param batch what changed since the previous refresh, for messages
     */
    public void refreshAll(Batch batch) {
        refreshAll(batch.describe(), true);
    }

    /**
     * Refreshes every shape in creation order while other connections write (or just paused).
     *
     * @param changes what the writers are doing, for messages
     * @param checkContents whether the sources are quiet, so contents can be compared with the query
     */
    public void refreshAll(String changes, boolean checkContents) {
        for (Target target : targets.values()) {
            RefreshResult result;
            try {
                result = api.refresh(target.shape().name());
            } catch (RuntimeException e) {
                throw new AssertionError(context(target.shape(), target.requested(), changes) + "\nrefresh failed: "
                        + e.getMessage(), e);
            }
            actions.merge(target.requested() + "->" + result.action(), 1, Integer::sum);
            if (result.took().toMillis() > 2000) {
                log.warn("{}: cycle {}: slow {} refresh of {}: {} ms (+{} -{})", label, cycle, result.action(),
                        target.shape().name(), result.took().toMillis(), result.rowsInserted(), result.rowsDeleted());
            }
            if (!target.shape().allows(target.requested(), result.action())) {
                throw new AssertionError(context(target.shape(), target.requested(), changes) + "\nthe refresh was "
                        + result.action() + ", expected " + target.shape().expectedEffectiveMode(target.requested())
                        + flagHint(target.shape()));
            }
            if (checkContents) {
                checkContents(target, changes);
            }
            // Whatever the writers do: the outbox and the stream table commit together.
            checkOutbox(target, changes);
        }
    }

    /**
     * The outbox invariant: replaying the stream table's outbox reproduces it. An entry becomes
     * readable only once every older transaction has ended (so that a reader never skips one that
     * commits later), and in a concurrent round a writer's transaction may still be open after the
     * refresh committed: the replay then catches up within a bounded wait, entry by entry.
     */
    private void checkOutbox(Target target, String batch) {
        String name = target.shape().name();
        OutboxReplay replay = replays.get(name);
        if (replay == null) {
            return; // no outbox (IMMEDIATE)
        }
        try {
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
                    .pollInterval(java.time.Duration.ofMillis(50)).untilAsserted(() -> {
                        replay.apply(outboxes.read(name, replay.lastOffset(), 1_000_000));
                        replay.assertReproduces(db, name);
                    });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            AssertionError cause = e.getCause() instanceof AssertionError a ? a : new AssertionError(e.getMessage(), e);
            throw new AssertionError(context(target.shape(), target.requested(), batch) + "\noutbox invariant: "
                    + cause.getMessage(), e);
        } catch (AssertionError | RuntimeException e) {
            throw new AssertionError(context(target.shape(), target.requested(), batch) + "\noutbox invariant: "
                    + e.getMessage(), e);
        }
    }

    /** Advances the cycle number for a step that is not a {@link #cycle} (a concurrent round). */
    public int nextCycle() {
        return ++cycle;
    }

    private void checkContents(Target target, String batch) {
        try {
            Checks.Difference diff = Checks.difference(c, target.storageSelect(), target.shape().sql());
            if (!diff.isEmpty()) {
                throw new AssertionError(context(target.shape(), target.requested(), batch)
                        + "\nthe stream table differs from its query: " + diff);
            }
            List<String> negative = new ArrayList<>(Checks.negativeCounts(c, target.shape().name(), target.hiddenCounts()));
            negative.addAll(Checks.negativeStateCounts(c, target.shape().name()));
            if (!negative.isEmpty()) {
                throw new AssertionError(context(target.shape(), target.requested(), batch) + "\nnegative hidden counts: "
                        + negative);
            }
        } catch (SQLException e) {
            throw new AssertionError(context(target.shape(), target.requested(), batch) + "\ncheck failed: " + e.getMessage(), e);
        }
    }

    private void expectEffectiveMode(Shape shape, RefreshMode requested, StreamTableRecord st, String batch) {
        RefreshMode expected = shape.expectedEffectiveMode(requested);
        if (st.effectiveMode() != expected) {
            throw new AssertionError(context(shape, requested, batch) + "\nasked " + requested + ", the engine chose "
                    + st.effectiveMode() + " (" + st.modeReason() + "), expected " + expected + flagHint(shape));
        }
    }

    private Target inspect(Shape shape, RefreshMode requested) {
        try {
            Target target = new Target(shape, requested, Checks.storageSelect(c, shape.name()),
                    Checks.hiddenCountColumns(c, shape.name()));
            targets.put(shape.name(), target);
            return target;
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the columns of " + shape.name() + ": " + e.getMessage(), e);
        }
    }

    private static String flagHint(Shape shape) {
        String waits = ExpectedModes.waitingFor(shape.name());
        return waits == null ? "\n(shape is flagged differential in ExpectedModes)"
                : "\n(ExpectedModes lists it as waiting for: " + waits + "; remove that line once the construct is supported)";
    }

    private String context(Shape shape, RefreshMode requested, String batch) {
        return label + ": " + budget + ", cycle " + cycle + ", shape " + shape.name() + " (" + requested + "): "
                + shape.sql().replaceAll("\\s+", " ") + "\nreplay: -Dpgtrickle.seed=" + budget.seed() + " -Dpgtrickle.cycles="
                + Math.max(cycle, 1) + "\nlast batch:\n" + batch;
    }

    /** What the run did, for the log: cycles, refreshes per mode and action, and time. */
    public String summary() {
        return String.format("%s (%s): %d shapes, %d cycles, refreshes by mode->action %s, %.1f s%s", label, budget,
                targets.size(), cycle, actions, (System.nanoTime() - startNanos) / 1e9,
                skipped.isEmpty() ? "" : "; left out for known bugs: " + skipped);
    }

    @Override
    public void close() {
        log.info("harness run {}", summary());
        try {
            c.close();
        } catch (SQLException e) {
            log.warn("closing the harness connection: {}", e.getMessage());
        }
    }
}
