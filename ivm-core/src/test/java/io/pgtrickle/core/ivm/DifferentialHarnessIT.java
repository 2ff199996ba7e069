package io.pgtrickle.core.ivm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.ivm.harness.Budget;
import io.pgtrickle.core.ivm.harness.ConcurrentWriters;
import io.pgtrickle.core.ivm.harness.EmpDeptWorkload;
import io.pgtrickle.core.ivm.harness.ExpectedModes;
import io.pgtrickle.core.ivm.harness.HarnessRun;
import io.pgtrickle.core.ivm.harness.PartitionWorkload;
import io.pgtrickle.core.ivm.harness.Shape;
import io.pgtrickle.core.ivm.harness.TpchWorkload;
import io.pgtrickle.core.ivm.harness.TypesWorkload;
import io.pgtrickle.core.ivm.harness.ViewWorkload;
import io.pgtrickle.core.ivm.harness.Workload;
import io.pgtrickle.core.lifecycle.RefreshMode;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.function.Function;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The correctness harness (docs/correctness-harness.md): for every query shape of two workloads,
 * random batches of INSERT / UPDATE / DELETE, a refresh, then the multiset invariant (the stream
 * table equals a fresh run of its query, both directions of EXCEPT ALL) and no negative hidden
 * count; in the expected mode of each shape ({@link ExpectedModes}), in FULL and AUTO, across
 * mode switches, and with writers committing during the refreshes.
 *
 * <p>{@code -Dpgtrickle.seed=N} replays a run; {@code -Dpgtrickle.cycles=N} sets the cycles per
 * run; {@code -Dpgtrickle.duration=30m} instead keeps cycling for that long in total.
 */
@ExtendWith(PostgresExtension.class)
class DifferentialHarnessIT {
    private static final Logger log = LoggerFactory.getLogger(DifferentialHarnessIT.class);
    private static final Budget BUDGET = Budget.fromSystemProperties();
    private static final List<Workload> WORKLOADS = List.of(new EmpDeptWorkload(), new TpchWorkload());

    private static PgTrickleEngine engine;
    private static StreamTables api;

    @BeforeAll
    static void setUp(TestDatabase db) {
        WORKLOADS.forEach(w -> db.execute(w.schema().toArray(String[]::new)));
        engine = EngineFixture.open(db);
        api = engine.streamTables();
    }

    @AfterAll
    static void tearDown() {
        if (engine != null) {
            engine.close();
        }
    }

    @Test
    void shapesAreManyUniquelyNamedAndEveryFlagNamesAShape() {
        List<Shape> all = new ArrayList<>();
        List.of(new EmpDeptWorkload(), new TpchWorkload(), new ViewWorkload(), new PartitionWorkload(), new TypesWorkload())
                .forEach(w -> all.addAll(w.shapes()));
        Set<String> names = new HashSet<>();
        assertThat(all).allSatisfy(s -> assertThat(names.add(s.name())).as("unique name %s", s.name()).isTrue());
        assertThat(all).as("the issue asks for at least 40 shapes").hasSizeGreaterThanOrEqualTo(40);
        assertThat(ExpectedModes.unknown(all)).as("ExpectedModes lists shapes no workload defines").isEmpty();
    }

    @Test
    void everyEmpDeptShapeEqualsItsQueryAfterEveryRefreshInItsExpectedMode(TestDatabase db) {
        runCycles("emp-dept/expected", db, new EmpDeptWorkload(), BUDGET.share(0.3), Shape::expectedMode);
    }

    @Test
    void everyTpchQueryEqualsItsQueryAfterEveryRefreshInItsExpectedMode(TestDatabase db) {
        runCycles("tpch/expected", db, new TpchWorkload(), BUDGET.share(0.3), Shape::expectedMode);
    }

    /** Views as sources (inlined, nested ones too) over their own tables; the schema is theirs alone. */
    @Test
    void everyViewShapeEqualsItsQueryAfterEveryRefreshInItsExpectedMode(TestDatabase db) {
        Workload views = new ViewWorkload();
        ensureSchema(db, views);
        runCycles("views/expected", db, views, BUDGET.share(0.05), Shape::expectedMode);
    }

    /** Partitioned and inherited sources, written through their roots and directly to partitions and children. */
    @Test
    void everyPartitionShapeEqualsItsQueryAfterEveryRefreshInItsExpectedMode(TestDatabase db) {
        Workload partitions = new PartitionWorkload();
        ensureSchema(db, partitions);
        runCycles("partitions/expected", db, partitions, BUDGET.share(0.05), Shape::expectedMode);
    }

    /** User-defined types, USING / NATURAL joins, ordered aggregates and SQL/JSON constructors (its own schema). */
    @Test
    void everyTypesShapeEqualsItsQueryAfterEveryRefreshInItsExpectedMode(TestDatabase db) {
        Workload types = new TypesWorkload(db.serverVersionNum());
        db.execute(types.schema().toArray(String[]::new));
        runCycles("types/expected", db, types, BUDGET.share(0.05), Shape::expectedMode);
    }

    /** FULL and AUTO are refresh modes too: every shape, whatever its delta rules, stays correct in them. */
    @ParameterizedTest
    @EnumSource(value = RefreshMode.class, names = {"FULL", "AUTO"})
    void everyEmpDeptShapeEqualsItsQueryInFullAndAutoMode(RefreshMode mode, TestDatabase db) {
        runCycles("emp-dept/" + mode, db, new EmpDeptWorkload(), BUDGET.share(0.075).withCycles(BUDGET.cycles() / 2),
                s -> mode);
    }

    /**
     * IMMEDIATE: every shape the compiler differentiates is maintained by its triggers; after each batch commits it must equal its query before any
     * refresh, and a refresh applies nothing.
     */
    @Test
    void everyEmpDeptDifferentialShapeEqualsItsQueryInImmediateMode(TestDatabase db) {
        Budget budget = BUDGET.share(0.075).withCycles(Math.max(2, BUDGET.cycles() / 2));
        assertTimeoutPreemptively(budget.timeout(), () -> {
            Workload workload = new EmpDeptWorkload();
            try (HarnessRun run = HarnessRun.start("emp-dept/IMMEDIATE", db, api, workload, budget)) {
                // (no emp-dept shape reads the clock, which IMMEDIATE refuses)
                List<Shape> immediate = workload.shapes().stream().filter(Shape::differential)
                        .filter(s -> ExpectedModes.immediateRefused(s.name()) == null).toList();
                run.createWithUpstream(immediate, s -> RefreshMode.IMMEDIATE, RefreshMode.FULL);
                assertThat(run.cycle(null)).isPositive();
            }
        });
    }

    /** IMMEDIATE over partitioned and inherited sources (written through roots and members) and over views. */
    @Test
    void everyPartitionAndViewShapeEqualsItsQueryInImmediateMode(TestDatabase db) {
        for (Workload workload : List.of(new PartitionWorkload(), new ViewWorkload())) {
            ensureSchema(db, workload);
            Budget budget = BUDGET.share(0.03).withCycles(Math.max(2, BUDGET.cycles() / 2));
            assertTimeoutPreemptively(budget.timeout(), () -> {
                try (HarnessRun run = HarnessRun.start(workload.getClass().getSimpleName() + "/IMMEDIATE", db, api,
                        workload, budget)) {
                    run.createWithUpstream(workload.shapes().stream().filter(Shape::differential)
                            .filter(s -> ExpectedModes.immediateRefused(s.name()) == null).toList(),
                            s -> RefreshMode.IMMEDIATE, RefreshMode.FULL);
                    assertThat(run.cycle(null)).isPositive();
                }
            });
        }
    }

    /**
     * Altering the refresh mode refills the stream table under the new mode; the differential
     * shapes hop between FULL, DIFFERENTIAL and AUTO at random after each cycle and stay correct.
     */
    @Test
    void differentialShapesStayCorrectWhenTheirModeIsSwitchedMidRun(TestDatabase db) {
        Budget budget = BUDGET.share(0.1).withCycles(BUDGET.cycles() / 2);
        assertTimeoutPreemptively(budget.timeout(), () -> {
            Workload workload = new EmpDeptWorkload();
            try (HarnessRun run = HarnessRun.start("emp-dept/mode-switch", db, api, workload, budget)) {
                // Shapes that other shapes read are created too, in FULL, and keep their mode.
                List<Shape> differential = workload.shapes().stream().filter(Shape::differential).toList();
                run.createWithUpstream(differential, s -> RefreshMode.FULL, RefreshMode.FULL);
                Random random = budget.random("emp-dept/mode-switch/modes");
                // IMMEDIATE has a run of its own (it writes no outbox, which this run checks)
                RefreshMode[] modes = {RefreshMode.FULL, RefreshMode.DIFFERENTIAL, RefreshMode.AUTO};
                run.cycle((cycle, batch) -> run.targets().stream()
                        .filter(t -> t.shape().differential() && t.shape().knownBug() == null).forEach(t -> {
                    RefreshMode next = modes[random.nextInt(modes.length)];
                    if (next != t.requested()) {
                        run.alter(t.shape(), next, batch);
                    }
                }));
            }
        });
    }

    /**
     * Two writers commit random batches while every shape refreshes round after round. After each
     * round the writers pause (no transaction open) and one more refresh must bring each stream
     * table exactly to its query; likewise once they stop.
     */
    @Test
    void everyEmpDeptShapeEqualsItsQueryAfterRefreshesRacingConcurrentWriters(TestDatabase db) {
        Budget budget = BUDGET.share(0.15).withCycles(Math.max(2, BUDGET.cycles() / 3));
        assertTimeoutPreemptively(budget.timeout(), () -> {
            Workload workload = new EmpDeptWorkload();
            try (HarnessRun run = HarnessRun.start("emp-dept/concurrent", db, api, workload, budget)) {
                run.createAll(Shape::expectedMode);
                ConcurrentWriters.Summary written;
                try (ConcurrentWriters writers = ConcurrentWriters.start(db, workload, budget.seed(), 2)) {
                    long start = System.nanoTime();
                    for (int round = 1; budget.more(round - 1, start); round++) {
                        run.nextCycle();
                        run.refreshAll("  (round " + round + ": two writers committing during these refreshes)", false);
                        // Quiet the writers and check: a drift is caught in the round that caused it.
                        writers.pause();
                        try {
                            run.refreshAll("  (round " + round + ": writers paused after committing during the"
                                    + " previous refreshes)", true);
                        } finally {
                            writers.resume();
                        }
                        log.info("{}: round {} done, {} batches committed so far", run.label(), round, writers.committed());
                    }
                    written = writers.stop();
                }
                assertThat(written.committed()).as("writers committed while the shapes refreshed").isPositive();
                run.nextCycle();
                run.refreshAll("  (writers stopped after " + written.committed() + " batches)", true);
            }
        });
    }

    /** Creates a workload's own schema unless an earlier test of this class did (they share the database). */
    private static void ensureSchema(TestDatabase db, Workload workload) {
        if (db.value("SELECT to_regclass(?)::text", workload.tables().get(0)) == null) {
            db.execute(workload.schema().toArray(String[]::new));
        }
    }

    private static void runCycles(String label, TestDatabase db, Workload workload, Budget budget,
                                  Function<Shape, RefreshMode> modeOf) {
        assertTimeoutPreemptively(budget.timeout(), () -> {
            try (HarnessRun run = HarnessRun.start(label, db, api, workload, budget)) {
                run.createAll(modeOf);
                assertThat(run.cycle(null)).isPositive();
            }
        });
    }
}
