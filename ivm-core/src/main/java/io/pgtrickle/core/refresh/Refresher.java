package io.pgtrickle.core.refresh;

import io.pgtrickle.core.capture.Capture;
import io.pgtrickle.core.capture.ChangeSource;
import io.pgtrickle.core.capture.ChangeSources;
import io.pgtrickle.core.capture.ChangeWindow;
import io.pgtrickle.core.ivm.DeltaApplier;
import io.pgtrickle.core.outbox.OutboxWriter;
import io.pgtrickle.core.ivm.IvmCompiler;
import io.pgtrickle.core.ivm.IvmPlan;
import io.pgtrickle.core.ivm.NotDifferentiable;
import io.pgtrickle.core.lifecycle.RefreshMode;
import io.pgtrickle.core.query.Column;
import java.util.HashMap;
import java.util.Map;
import io.pgtrickle.core.catalog.Catalog;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.error.SqlErrors;
import io.pgtrickle.core.sql.AdvisoryLocks;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.ServerCapabilities;
import io.pgtrickle.core.sql.SqlCheck;
import io.pgtrickle.core.sql.StorageMerge;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import io.pgtrickle.core.query.SourceRelation;
import java.time.Duration;
import java.time.OffsetDateTime;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Refreshes stream tables. Every refresh is one REPEATABLE READ transaction: the MERGE, the new
 * frontier (the transaction's snapshot) and the history row commit together or not at all.
 * A failure is recorded in a transaction of its own, with back-off and, after repeated failures,
 * suspension.
 */
public final class Refresher {
    private static final Logger log = LoggerFactory.getLogger(Refresher.class);

    private final DataSource dataSource;
    private final Catalog catalog;
    private final RetryPolicy retryPolicy;
    private final Capture capture;
    private final ServerCapabilities server;
    private final IvmCompiler compiler = new IvmCompiler();
    private final PlanCache plans = new PlanCache();
    /** By stream table: the key ({@link PlanCache#key}) under which its query last passed {@code _check_query}. */
    private final Map<Long, String> checkedQueries = new java.util.concurrent.ConcurrentHashMap<>();
    /** Per AUTO stream table, how far to count a window: twice the size its last decision would have refreshed FULL at. */
    private final Map<Long, Long> autoBreakEven = new java.util.concurrent.ConcurrentHashMap<>();
    private final IdleConfirmation idle;

    /** @param server what the database server can do, as the engine detected it at start */
    public Refresher(DataSource dataSource, Catalog catalog, RetryPolicy retryPolicy, Capture capture,
                     ServerCapabilities server) {
        this.dataSource = dataSource;
        this.catalog = catalog;
        this.retryPolicy = retryPolicy;
        this.capture = capture;
        this.server = server;
        this.idle = new IdleConfirmation(dataSource, capture);
    }

    /** What the server can do: decides the form of the SQL that refreshes run. */
    public ServerCapabilities serverCapabilities() {
        return server;
    }

    /**
     * For a scheduler tick: confirms at once which of {@code ids} have nothing new in any source
     * since their frontier, and moves their frontier to now without a refresh (one snapshot and one
     * capture barrier for all; see {@link IdleConfirmation} for why that is exact and what it
     * records). The others, and those busy elsewhere, need {@link #refresh}.
     *
     * @return the ids confirmed current
     */
    public java.util.Set<Long> confirmIdle(java.util.Collection<Long> ids) {
        try {
            return idle.confirm(ids);
        } catch (SQLException e) {
            throw SqlErrors.translate("confirming idle stream tables", e);
        }
    }

    /**
     * Refreshes stream table {@code id} now.
     *
     * @throws PgTrickleException {@code REFRESH_FAILED} after recording the failure, or
     *     {@code NOT_FOUND} if the stream table was dropped meanwhile
     */
    public RefreshResult refresh(long id, RefreshTrigger trigger) {
        try (Connection c = dataSource.getConnection()) {
            return AdvisoryLocks.withStreamTableLock(c, id, conn -> refreshLocked(conn, id, trigger));
        } catch (SQLException e) {
            throw SqlErrors.translate("refreshing stream table " + id, e);
        }
    }

    /**
     * Refreshes the stream table named {@code name} now, as {@link #refresh(long, RefreshTrigger)}
     * does; it is looked up while it is locked, in the same round trip.
     *
     * @throws PgTrickleException {@code NOT_FOUND} when there is no such stream table
     */
    public RefreshResult refresh(io.pgtrickle.core.sql.QualifiedName name, RefreshTrigger trigger) {
        RefreshResult result;
        try (Connection c = dataSource.getConnection()) {
            result = AdvisoryLocks.withStreamTableLockByName(c, name.schema(), name.name(),
                    (conn, id) -> refreshLocked(conn, id, trigger));
        } catch (SQLException e) {
            throw SqlErrors.translate("refreshing stream table " + name, e);
        }
        if (result == null) {
            throw new PgTrickleException(ErrorCode.NOT_FOUND, "stream table " + name + " does not exist");
        }
        return result;
    }

    /**
     * Refreshes stream tables {@code ids} together: one transaction, one snapshot, so readers of
     * several of them never see some refreshed and others not (an atomic diamond's branches). None
     * may read another (its changes would reach the other only after the commit). A failure of one
     * is recorded against it and rolls back all.
     *
     * @throws PgTrickleException {@code REFRESH_FAILED} after recording the failure
     */
    public List<RefreshResult> refreshTogether(List<Long> ids, RefreshTrigger trigger) {
        List<Long> sorted = ids.stream().sorted().toList(); // lock order: no deadlock with another group
        try (Connection c = dataSource.getConnection()) {
            return lockAll(c, sorted, 0, conn -> refreshTogetherLocked(conn, sorted, trigger));
        } catch (SQLException e) {
            throw SqlErrors.translate("refreshing stream tables " + ids + " together", e);
        }
    }

    /** Drops this transaction's refresh temporary tables (they are ON COMMIT DROP otherwise). */
    private static final String DROP_REFRESH_TEMPS = """
            DO $$
            DECLARE t record;
            BEGIN
                FOR t IN SELECT relname FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relkind = 'r'
                            AND relname LIKE '\\_\\_pgt%' LOOP
                    EXECUTE format('DROP TABLE pg_temp.%I', t.relname);
                END LOOP;
            END $$""";

    private static <T> T lockAll(Connection c, List<Long> ids, int from, Jdbc.Work<T> work) throws SQLException {
        if (from == ids.size()) {
            return work.run(c);
        }
        return AdvisoryLocks.withStreamTableLock(c, ids.get(from), conn -> lockAll(conn, ids, from + 1, work));
    }

    private List<RefreshResult> refreshTogetherLocked(Connection c, List<Long> ids, RefreshTrigger trigger)
            throws SQLException {
        OffsetDateTime startedAt = OffsetDateTime.now();
        StreamTableRecord[] read = new StreamTableRecord[1];
        long[] current = {ids.get(0)};
        try {
            return Jdbc.inTransactionIsolatedByWork(c, tx -> {
                long ingested = capture.ingestTransactions();
                List<RefreshResult> results = new ArrayList<>();
                for (int i = 0; i < ids.size(); i++) {
                    current[0] = ids.get(i);
                    read[0] = null;
                    results.add(refreshAtSnapshot(tx, ids.get(i), read, trigger, startedAt, null, ingested, i == 0));
                    // The next member creates temporary tables of the same names (windows of a common source).
                    Jdbc.executeRaw(tx, DROP_REFRESH_TEMPS);
                }
                return results;
            });
        } catch (SQLException | RuntimeException e) {
            StreamTableRecord st = read[0] != null ? read[0] : catalog.findById(c, current[0]).orElse(null);
            if (st == null) {
                throw e instanceof PgTrickleException p ? p : new PgTrickleException(ErrorCode.NOT_FOUND,
                        "stream table " + current[0] + " no longer exists");
            }
            String message = (e instanceof SQLException sql ? SqlErrors.describe(sql) : e.getMessage())
                    + " (refreshed together with " + ids + ", none of which changed)" + sourceChangeContext(c, st);
            recordFailure(c, st, trigger, startedAt, message);
            throw new PgTrickleException(ErrorCode.REFRESH_FAILED, "refresh of " + st.name() + " failed: " + message, e);
        }
    }

    private RefreshResult refreshLocked(Connection c, long id, RefreshTrigger trigger) throws SQLException {
        OffsetDateTime startedAt = OffsetDateTime.now();
        long start = System.nanoTime();
        // The catalog row is read in the refresh transaction's first round trip (RefreshPrologue).
        StreamTableRecord[] read = new StreamTableRecord[1];
        try {
            RefreshResult result = Jdbc.inTransactionIsolatedByWork(c,
                    tx -> refreshAtSnapshot(tx, id, read, trigger, startedAt, null));
            log.debug("refreshed {} ({}): +{} -{} in {} ms", result.name(), trigger, result.rowsInserted(),
                    result.rowsDeleted(), (System.nanoTime() - start) / 1_000_000);
            return result;
        } catch (SQLException | RuntimeException e) {
            if (read[0] == null && e instanceof PgTrickleException p && p.code() == ErrorCode.NOT_FOUND) {
                throw p;
            }
            StreamTableRecord st = read[0] != null ? read[0] : catalog.findById(c, id).orElseThrow(() ->
                    new PgTrickleException(ErrorCode.NOT_FOUND, "stream table " + id + " no longer exists"));
            if (Thread.currentThread().isInterrupted()) {
                // The engine is stopping: the refresh was abandoned, not failed.
                throw new PgTrickleException(ErrorCode.INTERNAL, "refresh of " + st.name() + " abandoned: engine stopping", e);
            }
            String message = (e instanceof SQLException sql ? SqlErrors.describe(sql) : e.getMessage())
                    + sourceChangeContext(c, st);
            recordFailure(c, st, trigger, startedAt, message);
            throw new PgTrickleException(ErrorCode.REFRESH_FAILED,
                    "refresh of " + st.name() + " failed: " + message, e);
        }
    }

    /**
     * Runs the next refresh of stream table {@code id} as {@link #refresh} would, in a transaction
     * that is then rolled back, and reports what it did: every statement with its
     * {@code EXPLAIN (ANALYZE, BUFFERS)}, and the time per phase. Nothing changes: not the
     * stream table, its frontier, its change buffers nor the refresh history.
     *
     * @throws PgTrickleException {@code NOT_FOUND} if the stream table was dropped meanwhile, or
     *     {@code REFRESH_FAILED} if the refresh fails (nothing is recorded)
     */
    public RefreshAnalysis analyze(long id) {
        try (Connection c = dataSource.getConnection()) {
            return AdvisoryLocks.withStreamTableLock(c, id, conn -> {
                StreamTableRecord st = catalog.findById(conn, id).orElseThrow(() ->
                        new PgTrickleException(ErrorCode.NOT_FOUND, "stream table " + id + " no longer exists"));
                Probe probe = new Probe();
                try {
                    Jdbc.inRolledBackTransaction(conn, Connection.TRANSACTION_REPEATABLE_READ,
                            tx -> refreshAtSnapshot(tx, id, new StreamTableRecord[1], RefreshTrigger.MANUAL,
                                    OffsetDateTime.now(), probe));
                } catch (SQLException e) {
                    throw new PgTrickleException(ErrorCode.REFRESH_FAILED, "explain analyze of " + st.name()
                            + " failed: " + SqlErrors.describe(e) + sourceChangeContext(conn, st), e);
                }
                return probe.analysis(st);
            });
        } catch (SQLException e) {
            throw SqlErrors.translate("analyzing the refresh of stream table " + id, e);
        }
    }

    /**
     * What an analyzed refresh did. A refresh under analysis runs as any other on a connection
     * whose statements are profiled, and skips only its history row; its transaction is rolled back.
     */
    private static final class Probe {
        final StatementProfiler profiler = new StatementProfiler();
        String action;
        String note;
        List<String> window = List.of();
        String phases;

        RefreshAnalysis analysis(StreamTableRecord st) {
            List<RefreshAnalysis.Statement> statements = profiler.statements().stream()
                    .map(p -> new RefreshAnalysis.Statement(p.sql(), p.plan(), p.millis())).toList();
            return new RefreshAnalysis(st.name(), action, note, window, phases, statements);
        }
    }

    /**
     * The consistency protocol (DESIGN §2.4), the one path of every scheduled or manual refresh:
     * the transaction's first statement fixes snapshot S and WAL position L; capture catches up
     * past L; the change window is what S sees and the previous frontier did not; the result,
     * the new frontier S and the history row commit together.
     *
     * @param read receives the stream table's catalog row as soon as it is read
     * @param probe {@code null} for a refresh; for {@link #analyze}, what the refresh did (the
     *     caller rolls the transaction back)
     * @throws PgTrickleException {@code NOT_FOUND} when the stream table no longer exists
     */
    private RefreshResult refreshAtSnapshot(Connection tx, long id, StreamTableRecord[] read, RefreshTrigger trigger,
                                            OffsetDateTime startedAt, Probe probe) throws SQLException {
        // Before the snapshot: equal after the barrier, it proves no window row was buffered after it.
        return refreshAtSnapshot(tx, id, read, trigger, startedAt, probe, capture.ingestTransactions(), true);
    }

    /**
     * @param ingested the capture's count read before the transaction's snapshot was taken
     * @param first whether this refresh opens the transaction (else a group's next member, at the
     *     snapshot the first one took)
     */
    private RefreshResult refreshAtSnapshot(Connection tx, long id, StreamTableRecord[] read, RefreshTrigger trigger,
                                            OffsetDateTime startedAt, Probe probe, long ingested, boolean first)
            throws SQLException {
        long start = System.nanoTime();
        // The first round trip sets the isolation, takes the snapshot and reads the catalog in it.
        RefreshPrologue prologue = RefreshPrologue.read(tx, id, first);
        StreamTableRecord st = prologue.streamTable();
        if (st == null) {
            throw new PgTrickleException(ErrorCode.NOT_FOUND, "stream table " + id + " no longer exists");
        }
        read[0] = st;
        String snapshot = prologue.snapshot();
        String walLsn = prologue.walLsn();
        boolean outbox = prologue.outbox();
        List<SourceRelation> dependencies = prologue.dependencies();
        List<ChangeSource> involved = prologue.tracked();
        for (SourceRelation d : dependencies) {
            if (ChangeSources.capturable(d) && involved.stream().noneMatch(cs -> cs.relid() == d.relid())) {
                throw new PgTrickleException(ErrorCode.REFRESH_FAILED, "source " + d.name() + " is no longer tracked"
                        + " (dropped or replaced); once it is back, resume the stream table to re-attach it:"
                        + " alter_stream_table(name, status => 'ACTIVE')");
            }
        }
        if (st.effectiveMode() == RefreshMode.IMMEDIATE) {
            if (probe != null) {
                probe.action = "IMMEDIATE";
                probe.note = "IMMEDIATE: its triggers apply every change in the writer's transaction; a refresh"
                        + " applies nothing and only moves the frontier";
                probe.phases = "{}";
                return null;
            }
            return advanceImmediate(tx, st, involved, start);
        }
        List<Column> columns = prologue.columns();
        IvmPlan plan = planFor(tx, st, columns, prologue.fingerprint());
        // A plan that reads the clock: this refresh's instant and the previous one's (a sliding window).
        io.pgtrickle.core.ivm.ClockFilter clockFilter = plan == null ? null : io.pgtrickle.core.ivm.ClockPlans.of(plan);
        RefreshClock clock = clockFilter == null ? null : RefreshClock.read(tx, st.id());
        PhaseTimer phases = new PhaseTimer(start);
        phases.lap("plan");
        ChangeWindow.InPlace inPlace = null;
        Boolean ready = null;
        if (plan != null) {
            Boolean covered = null;
            if (st.frontier() != null) {
                // One statement, before the barrier (S is fixed, and so is what the transaction sees
                // in place): what the window holds in place per source (AUTO decides on it first: a
                // FULL refresh reads the tables at S and needs no window, so it should not pay for
                // reading and decoding one; an empty part needs no temporary table), whether an
                // earlier barrier covers S, and whether the plan's aggregate state exists.
                SqlCheck readyCheck = DeltaApplier.readyCheck(st.relid(), plan);
                // AUTO counts a large window only as far as it takes to know it refreshes FULL
                // (learnt at its last decision): counting all of it can cost a good part of a FULL refresh.
                long cap = st.refreshMode() == RefreshMode.AUTO ? autoBreakEven.getOrDefault(st.id(), Long.MAX_VALUE)
                        : Long.MAX_VALUE;
                inPlace = ChangeWindow.inPlace(tx, involved, snapshot, st.frontier(),
                        java.util.Arrays.asList(capture.coverage(tx, involved, snapshot), readyCheck), cap);
                covered = inPlace.checks()[0];
                ready = readyCheck == null || inPlace.checks()[1];
                phases.lap("window_read");
            }
            // Also before a FULL refresh AUTO may choose: the buffers then hold every change up to
            // the new frontier, as after any refresh of a differential plan.
            capture.awaitBuffered(tx, involved, snapshot, walLsn, covered);
        }
        boolean lateRowsPossible = ingested < 0 || capture.ingestTransactions() != ingested;
        phases.lap("capture_barrier");
        long decidedOn = inPlace != null && st.refreshMode() == RefreshMode.AUTO ? inPlace.total() : -1;
        // Known before the window is read, so a FULL refresh for these reasons does not read it.
        boolean autoFull = decidedOn >= 0 && fullIsCheaper(tx, st, decidedOn);
        if (decidedOn >= 0 && !autoFull && inPlace.capped()) {
            // The estimate moved since the cap was learnt: count all of the window after all.
            inPlace = ChangeWindow.inPlace(tx, involved, snapshot, st.frontier(), java.util.List.of());
            decidedOn = inPlace.total();
            autoFull = fullIsCheaper(tx, st, decidedOn);
        }
        String earlyFull = inPlace == null ? null
                : Boolean.FALSE.equals(ready) ? "the aggregate state is missing: a FULL refresh rebuilds it"
                : prologue.redefinitionPending() ? "a view or function it reads was redefined and is not re-planned yet"
                : clock != null && clock.recomputeReason() != null ? clock.recomputeReason()
                : autoFull ? "AUTO: recomputing is estimated cheaper than this window's delta"
                : plan.recomputeReason(changedInPlace(involved, inPlace));
        ChangeWindow window = inPlace == null || earlyFull != null ? null
                : capture.window(tx, involved, snapshot, st.frontier(), inPlace, lateRowsPossible);
        phases.lap("window_read");
        String action;
        StorageMerge.Counts d;
        OutboxWriter.Entry entry;
        String fullReason = earlyFull != null ? earlyFull
                : fullReason(tx, st, plan, window, decidedOn, prologue.redefinitionPending(), ready);
        if (probe != null && window != null) {
            probe.window = window.parts().stream().map(p -> p.source().name() + ": " + p.rows()).toList();
        }
        // Under analysis the apply and bookkeeping statements are profiled; the window copy is timed as a phase.
        Connection work = probe == null ? tx : probe.profiler.wrap(tx);
        if (fullReason == null) {
            Map<Long, String> windows = new HashMap<>();
            Map<Long, io.pgtrickle.core.capture.RowDecoder> decoders = plan.decoders();
            for (ChangeWindow.Part p : window.parts()) {
                if (p.rows() > 0) {
                    p.decode(tx, decoders.get(p.source().relid()));
                    windows.put(p.source().relid(), p.tempTable());
                }
            }
            phases.lap("window_read");
            io.pgtrickle.core.ivm.ClockMove move = clock == null ? null
                    : io.pgtrickle.core.ivm.ClockMove.compute(tx, clockFilter, clock.previous(), clock.now());
            boolean clockMoved = move != null && !move.still();
            if (windows.isEmpty()) {
                // Nothing to apply, but a query broken by a source change must not pass for healthy:
                // PostgreSQL plans it again, unless it passed with the very same catalog fingerprint
                // (sources' columns, types, keys, views, and the latest schema change event of a
                // source or function, all recorded while the event triggers are on).
                String checkKey = PlanCache.key(prologue.fingerprint(), st.query(),
                        columns.stream().map(Column::name).toList());
                if (!prologue.fingerprint().watched() || !checkKey.equals(checkedQueries.get(st.id()))) {
                    Jdbc.call(tx, "SELECT pgtrickle._check_query(?)", st.query());
                    checkedQueries.put(st.id(), checkKey);
                }
                if (probe != null && !clockMoved) {
                    probe.note = RefreshAnalysis.NOTHING_PENDING;
                    return null;
                }
            }
            entry = outbox && (!windows.isEmpty() || clockMoved) ? OutboxWriter.reserve(work, st.id(), false) : null;
            d = DeltaApplier.apply(work, st.name(), st.relid(), plan, windows, move, server, entry);
            if (clock != null) {
                RefreshClock.record(work, st.id());
            }
            action = "DIFFERENTIAL";
        } else {
            entry = outbox ? OutboxWriter.reserve(work, st.id(), true) : null;
            d = applyFull(work, st, plan, columns, entry);
            action = "FULL";
        }
        excludeExplains(phases, probe);
        phases.lap("apply");
        long inserted = d.inserted() + d.updated();
        long deleted = d.deleted() + d.updated();
        boolean unchanged = d.inserted() == 0 && d.deleted() == 0 && d.updated() == 0;
        if (probe != null) {
            markRefreshedAndClean(work, true, st.id(), involved, null, null, null);
            excludeExplains(phases, probe);
            phases.lap("bookkeeping");
            probe.action = action;
            probe.note = fullReason == null ? null : fullReason + ": EXPLAIN ANALYZE of the full refresh, not of a delta";
            probe.phases = phases.json();
            return null;
        }
        // The new frontier, the cleanup and the history row in one round trip: the server adds the
        // bookkeeping phase to the history row's timings (what the others leave out, in its clock).
        String phaseMs = phases.json();
        long[] recorded = markRefreshedAndClean(tx, false, st.id(), involved, unchanged ? null : entry,
                Catalog.historyInsert("?::jsonb || jsonb_build_object('bookkeeping', round((extract(epoch FROM"
                        + " clock_timestamp() - current_setting('" + BOOKKEEPING_STARTED + "')::timestamptz) * 1000)"
                        + "::numeric, 3))"),
                Catalog.historyParameters(st, action, trigger.name(), true, startedAt, inserted, deleted,
                        window == null ? null : window.rows(), null, phaseMs));
        if (unchanged) {
            // No row of the stream table changed: this transaction writes only the catalog, history
            // and buffers, none of them captured, so later barriers need not wait for it.
            capture.wroteNothingCaptured(recorded[0]);
        }
        log.debug("{} {}: phases (ms) {} and bookkeeping", st.name(), action, phaseMs);
        return new RefreshResult(st.name(), action, inserted, deleted, Duration.ofNanos(System.nanoTime() - start));
    }

    /** A setting of the refresh transaction: when its bookkeeping began, in the server's clock. */
    /**
     * A "refresh" of an IMMEDIATE stream table applies nothing (its triggers already applied every
     * committed change: applying the window again would count it twice). Its contents are exact
     * at every snapshot, so the frontier moves to this one: the change buffers it holds back can
     * be cleaned, and a switch to DIFFERENTIAL later starts from an exact frontier. No history row.
     */
    private RefreshResult advanceImmediate(Connection tx, StreamTableRecord st, List<ChangeSource> involved, long start)
            throws SQLException {
        markRefreshedAndClean(tx, false, st.id(), involved, null, null, null);
        return new RefreshResult(st.name(), "IMMEDIATE", 0, 0, Duration.ofNanos(System.nanoTime() - start));
    }

    /** The compiled plan of stream table {@code st} (DIFFERENTIAL or IMMEDIATE), for its triggers. */
    public IvmPlan plan(Connection c, StreamTableRecord st) throws SQLException {
        return planFor(c, st, StorageColumns.of(c, st.relid()), PlanCache.fingerprint(c, st.id()));
    }

    private static final String BOOKKEEPING_STARTED = "pgtrickle_engine.bookkeeping_started";

    /**
     * The new frontier, then the cleanup of the buffer rows it lets go (after it: it frees the rows
     * this refresh consumed) and, unless {@code history} is null, the history row, in one round trip
     * of consecutive statements. Returns the transaction's xid8 and the history row's id (0 without
     * one). Under analysis ({@code profiled}) each statement runs (and is explained) on its own.
     */
    private long[] markRefreshedAndClean(Connection c, boolean profiled, long id, List<ChangeSource> involved,
                                         OutboxWriter.Entry entry, String history, Object[] historyParameters)
            throws SQLException {
        String xid = "SELECT pg_current_xact_id()::text";
        if (profiled) {
            catalog.markRefreshed(c, id);
            capture.cleanup(c, involved);
            return new long[] {Long.parseLong(Jdbc.queryValue(c, String.class, xid)), 0};
        }
        StringBuilder sql = new StringBuilder("SELECT set_config('" + BOOKKEEPING_STARTED + "', clock_timestamp()::text, true)");
        sql.append(";\n").append(Catalog.MARK_REFRESHED);
        List<Object> parameters = new java.util.ArrayList<>(List.of(id));
        for (ChangeSource s : involved) {
            sql.append(";\n").append(Capture.cleanupStatement(s));
        }
        if (history != null && entry != null) {
            // The entry the MERGE wrote gets the history row's id, in the same statement.
            sql.append(";\nWITH __pgt_h AS (").append(history).append(", pg_current_xact_id()::text AS xid),\n__pgt_o AS (")
                    .append(OutboxWriter.attachRefreshSql(entry, "(SELECT refresh_id FROM __pgt_h)"))
                    .append(")\nSELECT refresh_id, xid FROM __pgt_h");
            parameters.addAll(java.util.Arrays.asList(historyParameters));
        } else if (history != null) {
            sql.append(";\n").append(history).append(", pg_current_xact_id()::text");
            parameters.addAll(java.util.Arrays.asList(historyParameters));
        } else {
            sql.append(";\n").append("SELECT 0::bigint, pg_current_xact_id()::text");
        }
        long[] last = null;
        try (PreparedStatement ps = Jdbc.prepare(c, sql.toString(), parameters.toArray())) {
            boolean isResult = ps.execute();
            while (isResult || ps.getUpdateCount() != -1) {
                if (isResult) {
                    try (ResultSet rs = ps.getResultSet()) {
                        if (rs.getMetaData().getColumnCount() == 2 && rs.next()) {
                            last = new long[] {Long.parseLong(rs.getString(2)), rs.getLong(1)};
                        }
                    }
                }
                isResult = ps.getMoreResults();
            }
        }
        if (last == null) {
            throw new IllegalStateException("no transaction id came back from the refresh bookkeeping");
        }
        return last;
    }

    /** The sources with changes in place (those the ingester writes late show up in the window). */
    private static java.util.Set<Long> changedInPlace(List<ChangeSource> involved, ChangeWindow.InPlace inPlace) {
        java.util.Set<Long> changed = new java.util.HashSet<>();
        for (int i = 0; i < involved.size(); i++) {
            if (inPlace.rows()[i] > 0) {
                changed.add(involved.get(i).relid());
            }
        }
        return changed;
    }

    /** Under analysis, the EXPLAIN runs are not part of any phase: the phases are the refresh's own. */
    private static void excludeExplains(PhaseTimer phases, Probe probe) {
        if (probe != null) {
            phases.exclude(probe.profiler.takeExplainNanos());
        }
    }

    /**
     * Why this refresh recomputes instead of applying the window, or {@code null} when it applies
     * the window ({@code plan} is {@code null} for a stream table maintained by FULL refresh).
     */
    private String fullReason(Connection tx, StreamTableRecord st, IvmPlan plan, ChangeWindow window,
                              long decidedOn, boolean redefinitionPending, Boolean ready) throws SQLException {
        if (plan == null) {
            return "refresh mode " + st.refreshMode() + " -> " + st.effectiveMode()
                    + (st.modeReason() == null ? "" : " (" + st.modeReason() + ")");
        }
        if (window == null) {
            return "first refresh: no frontier yet";
        }
        if (window.truncated()) {
            return "a source was truncated in the window";
        }
        if (!(ready != null ? ready : DeltaApplier.ready(tx, st.relid(), plan))) {
            return "the aggregate state is missing: a FULL refresh rebuilds it";
        }
        // AUTO decided on a count already; only rows the ingester wrote after the snapshot can change it.
        if (window.rows() != decidedOn && fullIsCheaper(tx, st, window.rows())) {
            return "AUTO: recomputing is estimated cheaper than this window's delta";
        }
        if (redefinitionPending) {
            return "a view or function it reads was redefined and is not re-planned yet";
        }
        return plan.recomputeReason(window.parts().stream().filter(p -> p.rows() > 0).map(p -> p.source().relid())
                .collect(java.util.stream.Collectors.toSet()));
    }

    /**
     * The compiled plan of a differential stream table. One that no longer compiles (a view it
     * reads now has a LIMIT, say) fails when DIFFERENTIAL was asked for; in AUTO it is switched to
     * FULL for good, recording why: its rows are then identified by content, and a later
     * FULL-or-differential flip could not mix the two schemes.
     */
    private IvmPlan planFor(Connection tx, StreamTableRecord st, List<Column> columns, PlanCache.Fingerprint fingerprint)
            throws SQLException {
        if (st.effectiveMode() != RefreshMode.DIFFERENTIAL && st.effectiveMode() != RefreshMode.IMMEDIATE) {
            return null;
        }
        List<String> names = columns.stream().map(Column::name).toList();
        String key = PlanCache.key(fingerprint, st.query(), names);
        IvmPlan cached = plans.get(st.id(), key);
        if (cached != null) {
            return cached;
        }
        try {
            IvmPlan plan = compiler.compile(tx, st.query(), names);
            io.pgtrickle.core.ivm.ClockPlans.requireSupported(plan);
            plans.put(st.id(), key, plan);
            return plan;
        } catch (NotDifferentiable e) {
            if (st.refreshMode() == RefreshMode.DIFFERENTIAL || st.refreshMode() == RefreshMode.IMMEDIATE) {
                // Asked for explicitly: failing names the reason, where FULL would hide it.
                throw new PgTrickleException(ErrorCode.REFRESH_FAILED, "the query cannot be maintained"
                        + " differentially any more: " + e.getMessage() + "; use refresh mode AUTO or FULL");
            }
            log.warn("stream table {} can no longer be maintained differentially ({}); it refreshes FULL from now on",
                    st.name(), e.getMessage());
            catalog.updateDefinition(tx, st.id(), st.query(), st.refreshMode(), RefreshMode.FULL, e.getMessage());
            return null;
        }
    }

    /**
     * AUTO's per-refresh choice, by {@link RefreshCostModel}: measured timings when there are
     * some, else the share of changed rows. DIFFERENTIAL asked for explicitly is never overridden.
     */
    private boolean fullIsCheaper(Connection tx, StreamTableRecord st, long windowRows) throws SQLException {
        if (st.refreshMode() != RefreshMode.AUTO || windowRows < RefreshCostModel.MIN_ROWS) {
            return false; // small windows are always differential: no need to read sizes and timings
        }
        Double sourceRows = Jdbc.queryValue(tx, Double.class, "SELECT sum(greatest(c.reltuples, 0))::float8"
                + " FROM pgtrickle.pgt_dependencies d JOIN pg_class c ON c.oid = d.source_relid WHERE d.pgt_id = ?", st.id());
        RefreshCostModel.History history = RefreshCostModel.load(tx, st.id());
        double sources = sourceRows == null ? 0 : sourceRows;
        RefreshCostModel.Decision d = RefreshCostModel.decide(history, windowRows, sources);
        // Twice the size: the next decision sees one more timing, and a count that stopped short of
        // its break-even would have to be made again.
        long breakEven = RefreshCostModel.breakEven(history, sources);
        autoBreakEven.put(st.id(), breakEven > Long.MAX_VALUE / 2 ? Long.MAX_VALUE : 2 * breakEven);
        if (d.full()) {
            log.debug("{}: refreshing FULL: {}", st.name(), d.reason());
        }
        return d.full();
    }

    /** Populates inside the caller's transaction (create and alter); no window, no failure bookkeeping. */
    public RefreshResult refreshInTransaction(Connection c, StreamTableRecord st, RefreshTrigger trigger,
                                              OffsetDateTime startedAt) throws SQLException {
        long start = System.nanoTime();
        List<Column> columns = StorageColumns.of(c, st.relid());
        IvmPlan plan = planFor(c, st, columns, PlanCache.fingerprint(c, st.id()));
        OutboxWriter.Entry entry = OutboxWriter.reserve(c, st.id(), true);
        StorageMerge.Counts counts = applyFull(c, st, plan, columns, entry);
        long inserted = counts.inserted() + counts.updated();
        long deleted = counts.deleted() + counts.updated();
        catalog.markRefreshed(c, st.id());
        long refreshId = catalog.recordHistory(c, st, "FULL", trigger.name(), true, startedAt, inserted, deleted, null, null);
        if (entry != null && (inserted > 0 || deleted > 0)) {
            OutboxWriter.attachRefresh(c, entry, refreshId);
        }
        return new RefreshResult(st.name(), "FULL", inserted, deleted, Duration.ofNanos(System.nanoTime() - start));
    }

    /** Recomputes the stream table's contents and, if it has a plan, the plan's state. */
    private StorageMerge.Counts applyFull(Connection c, StreamTableRecord st, IvmPlan plan, List<Column> columns,
                                          OutboxWriter.Entry outbox) throws SQLException {
        String rows = DeltaApplier.beforeFullRefresh(c, st.relid(), plan);
        StorageMerge.Counts counts = FullRefresh.apply(c, st.name(), columns, st.query(), rows, server, outbox);
        // The clock the query just read (its transaction's now()), from which the next refresh slides the window.
        if (plan != null && io.pgtrickle.core.ivm.ClockPlans.of(plan) != null) {
            RefreshClock.record(c, st.id());
        } else {
            RefreshClock.forget(c, st.id());
        }
        return counts;
    }

    /** Names the latest schema change of a source since the last good refresh, if any. */
    private static String sourceChangeContext(Connection c, StreamTableRecord st) {
        try {
            // Functions count too: a retry after DROP FUNCTION must still name the drop, not only
            // PostgreSQL's "function … does not exist".
            String change = Jdbc.queryValue(c, String.class, """
                    SELECT CASE WHEN e.command LIKE '% FUNCTION' THEN 'function ' ELSE 'source ' END
                           || e.source || ' changed (' || e.command || ': ' || e.detail || ')'
                      FROM pgtrickle.pgt_source_events e
                     WHERE (?::timestamptz IS NULL OR e.occurred_at > ?::timestamptz)
                       AND (e.source_relid IN (SELECT d.source_relid FROM pgtrickle.pgt_dependencies d
                                                WHERE d.pgt_id = ?)
                            OR e.source_relid IN (SELECT f.function_oid FROM pgtrickle.pgt_function_dependencies f
                                                   WHERE f.pgt_id = ?))
                     ORDER BY e.event_id DESC LIMIT 1""", st.dataTimestamp(), st.dataTimestamp(), st.id(), st.id());
            return change == null ? "" : " (" + change + ")";
        } catch (SQLException e) {
            return "";
        }
    }

    private void recordFailure(Connection c, StreamTableRecord st, RefreshTrigger trigger, OffsetDateTime startedAt,
                               String message) {
        try {
            Jdbc.inTransaction(c, Connection.TRANSACTION_READ_COMMITTED, tx -> {
                int errors = catalog.markFailed(tx, st.id(), message,
                        retryPolicy.backoffAfter(st.consecutiveErrors() + 1).toMillis(), retryPolicy.suspendAfter());
                catalog.recordHistory(tx, st, "FULL", trigger.name(), false, startedAt, 0, 0, null, message);
                if (errors >= retryPolicy.suspendAfter()) {
                    log.warn("stream table {} suspended after {} consecutive failed refreshes; last error: {}",
                            st.name(), errors, message);
                } else {
                    log.warn("refresh of {} failed ({} in a row): {}", st.name(), errors, message);
                }
                return null;
            });
        } catch (SQLException e) {
            log.error("could not record the failed refresh of {}: {}", st.name(), e.getMessage());
        }
    }
}
