package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.capture.ChangeSources;
import io.pgtrickle.core.catalog.Catalog;
import io.pgtrickle.core.catalog.Status;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.error.SqlErrors;
import io.pgtrickle.core.outbox.OutboxWriter;
import io.pgtrickle.core.ivm.AggregateState;
import io.pgtrickle.core.ivm.DeltaApplier;
import io.pgtrickle.core.ivm.IvmCompiler;
import io.pgtrickle.core.lineage.LineageStore;
import io.pgtrickle.core.ivm.IvmPlan;
import io.pgtrickle.core.ivm.NotDifferentiable;
import io.pgtrickle.core.publication.StreamTablePublications;
import io.pgtrickle.core.query.Column;
import io.pgtrickle.core.query.QueryDescriber;
import io.pgtrickle.core.query.QueryDescription;
import io.pgtrickle.core.query.SourceRelation;
import io.pgtrickle.core.query.SqlText;
import io.pgtrickle.core.immediate.ImmediateTriggers;
import io.pgtrickle.core.refresh.FullRefresh;
import io.pgtrickle.core.refresh.RefreshAnalysis;
import io.pgtrickle.core.refresh.RefreshResult;
import io.pgtrickle.core.refresh.RefreshTrigger;
import io.pgtrickle.core.refresh.Refresher;
import io.pgtrickle.core.refresh.StorageColumns;
import io.pgtrickle.core.sql.AdvisoryLocks;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lifecycle of stream tables: create, create-or-replace, alter, drop, refresh, status and
 * explain. Each change runs in one transaction under the lifecycle lock, so an error leaves the
 * catalog and every other stream table as they were.
 */
public final class StreamTables {
    private static final Logger log = LoggerFactory.getLogger(StreamTables.class);

    private final DataSource dataSource;
    private final Catalog catalog;
    private final QueryDescriber describer = new QueryDescriber();
    private final IvmCompiler compiler = new IvmCompiler();
    private final LineageStore lineage = new LineageStore();
    private final Refresher refresher;
    private final ChangeSources changeSources;
    private final Duration trackingTimeout;

    public StreamTables(DataSource dataSource, Catalog catalog, Refresher refresher, ChangeSources changeSources,
                        Duration trackingTimeout) {
        this.dataSource = dataSource;
        this.catalog = catalog;
        this.refresher = refresher;
        this.changeSources = changeSources;
        this.trackingTimeout = trackingTimeout;
    }

    /** Creates and populates a stream table as the engine's own role. */
    public StreamTableRecord create(StreamTableSpec spec) {
        return create(spec, null);
    }

    /**
     * Creates and populates a stream table.
     *
     * @param requester the role asking (it must be able to read every source and is granted
     *     SELECT on the result), or {@code null} for the engine's own role
     */
    public StreamTableRecord create(StreamTableSpec spec, String requester) {
        List<QualifiedName> lock = spec.refreshMode() == RefreshMode.IMMEDIATE
                ? lockableSources(spec.query(), requester) : List.of();
        StreamTableRecord st = lifecycle("cannot create stream table " + spec.name(), spec.query(), requester, c -> {
            lockSources(c, lock);
            return createIn(c, spec, requester);
        });
        log.info("created stream table {} ({} -> {})", st.name(), st.refreshMode(), st.effectiveMode());
        return st;
    }

    /** Creates the stream table, or brings an existing one to {@code spec}; a no-op when identical. */
    public CreateOutcome createOrReplace(StreamTableSpec spec, String requester) {
        List<QualifiedName> lock = new ArrayList<>();
        Optional<StreamTableRecord> before = find(spec.name());
        if (spec.refreshMode() == RefreshMode.IMMEDIATE
                || before.isPresent() && before.get().effectiveMode() == RefreshMode.IMMEDIATE) {
            lock.addAll(lockableSources(spec.query(), requester));
            before.ifPresent(b -> lock.addAll(lockableSources(b.query(), requester)));
        }
        return lifecycle("cannot create or replace stream table " + spec.name(), spec.query(), requester, c -> {
            lockSources(c, lock);
            Optional<StreamTableRecord> existing = catalog.find(c, spec.name());
            if (existing.isEmpty()) {
                createIn(c, spec, requester);
                return CreateOutcome.CREATED;
            }
            StreamTableRecord st = existing.get();
            String query = SqlText.requireSingleStatement(spec.query());
            if (st.query().equals(query) && st.schedule().equals(spec.schedule())
                    && st.refreshMode() == spec.refreshMode()) {
                return CreateOutcome.UNCHANGED;
            }
            alterIn(c, st, new AlterSpec(Optional.of(query), Optional.of(spec.schedule()),
                    Optional.of(spec.refreshMode()), Optional.empty()), requester);
            return CreateOutcome.REPLACED;
        });
    }

    public CreateOutcome createOrReplace(StreamTableSpec spec) {
        return createOrReplace(spec, null);
    }

    /** Changes the query, schedule, refresh mode or status of a stream table. */
    public StreamTableRecord alter(QualifiedName name, AlterSpec change, String requester) {
        if (change.isEmpty()) {
            throw new PgTrickleException(ErrorCode.INVALID_ARGUMENT,
                    "nothing to alter for " + name + ": give a query, schedule, refresh mode or status");
        }
        // Resuming re-attaches the stream table to its sources (they may have been dropped and recreated).
        String trackQuery = change.query().orElse(change.status().filter(s -> s == Status.ACTIVE).isPresent()
                ? find(name).map(StreamTableRecord::query).orElse(null) : null);
        List<QualifiedName> lock = new ArrayList<>();
        Optional<StreamTableRecord> before = change.refreshMode().isPresent() || change.query().isPresent()
                || change.status().filter(s -> s == Status.ACTIVE).isPresent() ? find(name) : Optional.empty();
        if (before.isPresent() && (before.get().effectiveMode() == RefreshMode.IMMEDIATE
                || change.refreshMode().orElse(before.get().refreshMode()) == RefreshMode.IMMEDIATE)) {
            lock.addAll(lockableSources(before.get().query(), requester));
            change.query().ifPresent(q -> lock.addAll(lockableSources(q, requester)));
        }
        return lifecycle("cannot alter stream table " + name, trackQuery, requester, c -> {
            lockSources(c, lock);
            return alterIn(c, catalog.require(c, name), change, requester);
        });
    }

    public StreamTableRecord alter(String name, AlterSpec change) {
        return alter(QualifiedName.parse(name), change, null);
    }

    /**
     * Sets how the branches of the diamonds that stream table {@code name} sinks refresh:
     * {@code none} one by one, {@code atomic} together in one transaction under one snapshot
     * ({@code pgtrickle.diamond_groups()} shows them). Atomic is refused for a diamond whose
     * branches read each other, naming them.
     */
    public void setDiamondConsistency(QualifiedName name, String consistency) {
        String value = consistency == null ? "" : consistency.strip().toLowerCase(java.util.Locale.ROOT);
        if (!value.equals("none") && !value.equals("atomic")) {
            throw new PgTrickleException(ErrorCode.INVALID_ARGUMENT, "invalid diamond consistency \"" + consistency
                    + "\": use 'none' (branches refresh one by one) or 'atomic' (together, under one snapshot)");
        }
        lifecycle("cannot set the diamond consistency of " + name, null, null, c -> {
            StreamTableRecord st = catalog.require(c, name);
            io.pgtrickle.core.sql.Jdbc.update(c, "UPDATE pgtrickle.pgt_stream_tables SET diamond_consistency = ?"
                    + " WHERE pgt_id = ?", value, st.id());
            String refused = io.pgtrickle.core.sql.Jdbc.queryValue(c, String.class, "SELECT string_agg(reason, '; ')"
                    + " FROM pgtrickle.diamond_groups() WHERE consistency = 'atomic' AND NOT supported AND sink ="
                    + " (SELECT quote_ident(pgt_schema) || '.' || quote_ident(pgt_name) FROM pgtrickle.pgt_stream_tables"
                    + " WHERE pgt_id = ?)", st.id());
            if (refused != null) {
                throw new PgTrickleException(ErrorCode.INVALID_ARGUMENT, "diamond consistency 'atomic' for " + st.name()
                        + " cannot hold: " + refused);
            }
            log.info("stream table {}: diamond consistency {}", st.name(), value);
            return null;
        });
    }

    /**
     * Drops a stream table: its storage table and catalog entries. Stream tables that read it are
     * dropped too when {@code cascade}, else they make the drop fail.
     */
    public void drop(QualifiedName name, boolean cascade) {
        lifecycle("cannot drop stream table " + name, null, null, c -> {
            dropIn(c, catalog.require(c, name), cascade);
            changeSources.untrackUnused(c);
            return null;
        });
    }

    public void drop(String name) {
        drop(QualifiedName.parse(name), false);
    }

    /**
     * Checks a stream table's query against the current schema of its sources (after they
     * changed) and, when its output columns changed, migrates the storage table and refills it.
     *
     * @return whether the storage table changed
     * @throws PgTrickleException when the query no longer works
     */
    public boolean revalidate(QualifiedName name) {
        List<QualifiedName> lock = immediateSources(name);
        return lifecycle("stream table " + name + " no longer works", null, null, c -> {
            lockSources(c, lock);
            StreamTableRecord st = catalog.require(c, name);
            QueryDescription description = describer.describe(c, st.query(), catalog.streamTableRelids(c), null);
            var current = StorageColumns.of(c, st.relid());
            if (current.equals(description.columns())) {
                return false;
            }
            StorageTable.migrate(c, st.name(), current, description.columns());
            refresher.refreshInTransaction(c, st, RefreshTrigger.ALTER, OffsetDateTime.now());
            syncImmediate(c, st);
            storeExplanation(c, st.id());
            return true;
        });
    }

    /**
     * Plans a stream table again after a definition it depends on changed (a view it reads was
     * replaced or altered, a function it calls was redefined): re-resolves its sources and
     * functions, tracks new tables, decides its mode again and refills it. The storage table
     * follows a change of the output columns.
     *
     * @throws PgTrickleException when the query no longer works, or no longer has the DIFFERENTIAL
     *     it was created with
     */
    public void replan(QualifiedName name) {
        String query = require(name).query();
        List<QualifiedName> lock = immediateSources(name);
        lifecycle("stream table " + name + " no longer works", query, null, c -> {
            lockSources(c, lock);
            StreamTableRecord st = catalog.require(c, name);
            QueryDescription description = describer.describe(c, st.query(), catalog.streamTableRelids(c), null);
            requireNoCycle(c, st, description.sources());
            ModeDecision mode = decideMode(c, st.refreshMode(), st.query(), names(description.columns()));
            StorageTable.migrate(c, st.name(), StorageColumns.of(c, st.relid()), description.columns());
            changeSources.track(c, description.sources());
            recordDependencies(c, st.id(), description);
            changeSources.untrackUnused(c);
            catalog.updateDefinition(c, st.id(), st.query(), st.refreshMode(), mode.effective(), mode.reason());
            refresher.refreshInTransaction(c, catalog.findById(c, st.id()).orElseThrow(), RefreshTrigger.ALTER,
                    OffsetDateTime.now());
            syncImmediate(c, catalog.findById(c, st.id()).orElseThrow());
            storeExplanation(c, st.id());
            return null;
        });
    }

    /**
     * Regenerates the trigger functions of every IMMEDIATE stream table from its plan as this
     * engine compiles it (at engine start: a new version may emit different delta SQL).
     */
    public void syncAllImmediate() {
        lifecycle("cannot install the IMMEDIATE triggers", null, null, c -> {
            for (StreamTableRecord st : catalog.all(c)) {
                if (st.effectiveMode() == RefreshMode.IMMEDIATE) {
                    syncImmediate(c, st);
                }
            }
            return null;
        });
    }

    /** Refreshes a stream table now, whatever its schedule. */
    public RefreshResult refresh(QualifiedName name) {
        return refresher.refresh(name, RefreshTrigger.MANUAL);
    }

    public RefreshResult refresh(String name) {
        return refresh(QualifiedName.parse(name));
    }

    public Optional<StreamTableRecord> find(QualifiedName name) {
        return read("cannot read the catalog", c -> catalog.find(c, name));
    }

    public StreamTableRecord require(QualifiedName name) {
        return read("cannot read the catalog", c -> catalog.require(c, name));
    }

    public List<StreamTableRecord> list() {
        return read("cannot read the catalog", catalog::all);
    }

    /** The rows of {@code pgtrickle.pgt_status()}. */
    public List<StatusRow> status() {
        return read("cannot read the status", c -> {
            List<StatusRow> rows = new ArrayList<>();
            try (PreparedStatement ps = c.prepareStatement("SELECT name, status, refresh_mode, effective_mode,"
                    + " schedule, data_timestamp, extract(epoch FROM staleness)::float8, consecutive_errors,"
                    + " last_error, mode_reason, cdc_mode FROM pgtrickle.pgt_status()");
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    double staleness = rs.getDouble(7);
                    rows.add(new StatusRow(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
                            rs.getString(5), rs.getObject(6, OffsetDateTime.class),
                            rs.wasNull() ? null : Duration.ofMillis(Math.round(staleness * 1000)),
                            (Integer) rs.getObject(8), rs.getString(9), rs.getString(10), rs.getString(11)));
                }
            }
            return rows;
        });
    }

    /** How {@code name} is maintained, and the SQL a refresh runs. */
    public Explanation explain(QualifiedName name) {
        return read("cannot explain " + name, c -> explainIn(c, catalog.require(c, name)));
    }

    /**
     * Runs the next refresh of {@code name} in a transaction that is rolled back and reports
     * {@code EXPLAIN (ANALYZE, BUFFERS)} of each of its statements and the time per phase: the
     * delta over the pending change window when differential, the full refresh otherwise.
     * Nothing changes (stream table, frontier, change buffers, refresh history).
     */
    public RefreshAnalysis explainAnalyze(QualifiedName name) {
        return refresher.analyze(require(name).id());
    }

    private Explanation explainIn(Connection c, StreamTableRecord st) throws SQLException {
        {
            var columns = StorageColumns.of(c, st.relid());
            IvmPlan plan = null;
            if (st.effectiveMode() == RefreshMode.DIFFERENTIAL || st.effectiveMode() == RefreshMode.IMMEDIATE) {
                try {
                    plan = compiler.compile(c, st.query(), columns.stream().map(col -> col.name()).toList());
                    io.pgtrickle.core.ivm.ClockPlans.requireSupported(plan);
                } catch (NotDifferentiable e) {
                    plan = null;
                }
            }
            return new Explanation(st.name(), st.query(), st.refreshMode(), st.effectiveMode(), st.modeReason(),
                    plan == null ? null : plan.rowKey(),
                    columns, catalog.sources(c, st.id()),
                    fullRefreshSql(st, columns, plan),
                    plan == null ? null : plan.strategy(), plan == null ? null : plan.deltaSqlForExplain());
        }
    }

    /** The statements of a FULL refresh: with an aggregate state, its rebuild first, then the rows from it. */
    private String fullRefreshSql(StreamTableRecord st, List<Column> columns, IvmPlan plan) {
        String state = DeltaApplier.stateRebuildSql(st.relid(), plan);
        return (state == null ? "" : state + ";\n") + FullRefresh.mergeSql(st.name(), columns, st.query(),
                DeltaApplier.fullRefreshRows(st.relid(), plan), refresher.serverCapabilities());
    }

    /** Renders and stores the explanation and the column lineage of a stream table whose definition just changed. */
    private void storeExplanation(Connection c, long id) throws SQLException {
        StreamTableRecord st = catalog.findById(c, id).orElseThrow();
        Explanation explanation = explainIn(c, st);
        catalog.storeExplanation(c, id, explanation.render());
        catalog.storeRowKey(c, id, explanation.rowKey());
        lineage.store(c, id, st.relid(), st.query());
    }

    private StreamTableRecord createIn(Connection c, StreamTableSpec spec, String requester) throws SQLException {
        QualifiedName name = spec.name();
        if (catalog.find(c, name).isPresent()) {
            throw new PgTrickleException(ErrorCode.NAME_TAKEN, "stream table " + name
                    + " already exists; use create_or_replace or alter to change it");
        }
        if (Jdbc.queryValue(c, String.class, "SELECT to_regnamespace(?)::text", Identifiers.quote(name.schema())) == null) {
            throw new PgTrickleException(ErrorCode.INVALID_NAME, "schema " + Identifiers.quoteIfNeeded(name.schema())
                    + " does not exist; create it first");
        }
        if (relid(c, name) != null) {
            throw new PgTrickleException(ErrorCode.NAME_TAKEN, "relation " + name
                    + " already exists and is not a stream table; choose another name");
        }
        String query = SqlText.requireSingleStatement(spec.query());
        QueryDescription description = describer.describe(c, query, catalog.streamTableRelids(c), requester);
        ModeDecision mode = decideMode(c, spec.refreshMode(), query, names(description.columns()));
        changeSources.track(c, description.sources());
        StorageTable.create(c, name, description.columns());
        long relid = relid(c, name);
        if (requester != null) {
            Jdbc.executeRaw(c, "GRANT SELECT ON " + name.quoted() + " TO " + Identifiers.quote(requester));
        }
        long id = catalog.insert(c, name, relid, query, spec.schedule(), spec.refreshMode(), mode.effective(),
                mode.reason());
        recordDependencies(c, id, description);
        refresher.refreshInTransaction(c, catalog.findById(c, id).orElseThrow(), RefreshTrigger.CREATE,
                OffsetDateTime.now());
        syncImmediate(c, catalog.findById(c, id).orElseThrow());
        storeExplanation(c, id);
        return catalog.findById(c, id).orElseThrow();
    }

    private StreamTableRecord alterIn(Connection c, StreamTableRecord st, AlterSpec change, String requester)
            throws SQLException {
        if (change.schedule().isPresent()) {
            catalog.updateSchedule(c, st.id(), change.schedule().get());
        }
        if (change.status().isPresent()) {
            catalog.updateStatus(c, st.id(), change.status().get());
            if (change.status().get() == Status.ACTIVE && change.query().isEmpty()) {
                reattach(c, st, requester);
            }
        }
        if (change.query().isPresent() || change.refreshMode().isPresent()) {
            String query = change.query().map(SqlText::requireSingleStatement).orElse(st.query());
            RefreshMode requested = change.refreshMode().orElse(st.refreshMode());
            boolean queryChanged = !query.equals(st.query());
            QueryDescription description = queryChanged
                    ? describer.describe(c, query, catalog.streamTableRelids(c), requester) : null;
            ModeDecision mode = decideMode(c, requested, query,
                    names(queryChanged ? description.columns() : StorageColumns.of(c, st.relid())));
            if (queryChanged) {
                requireNoCycle(c, st, description.sources());
                StorageTable.migrate(c, st.name(), StorageColumns.of(c, st.relid()), description.columns());
                changeSources.track(c, description.sources());
                recordDependencies(c, st.id(), description);
                changeSources.untrackUnused(c);
                requireReadersStillValid(c, st);
            }
            if (mode.effective() == RefreshMode.IMMEDIATE && st.effectiveMode() != RefreshMode.IMMEDIATE
                    && OutboxWriter.enabled(c, st.id())) {
                throw new PgTrickleException(ErrorCode.UNSUPPORTED_QUERY, "stream table " + st.name() + " has an outbox,"
                        + " and IMMEDIATE triggers write none; disable_outbox('" + st.name() + "') first, or keep"
                        + " refresh mode DIFFERENTIAL");
            }
            catalog.updateDefinition(c, st.id(), query, requested, mode.effective(), mode.reason());
            boolean leavingImmediate = st.effectiveMode() == RefreshMode.IMMEDIATE
                    && mode.effective() == RefreshMode.DIFFERENTIAL && !queryChanged;
            if (leavingImmediate) {
                // Exact at this snapshot (the sources were locked before it was taken, so every
                // writer that committed is in it and had its triggers applied): the frontier
                // is this snapshot, and differential refreshes continue from the contents as they are.
                catalog.markRefreshed(c, st.id());
            } else if (queryChanged || mode.effective() != st.effectiveMode()) {
                refresher.refreshInTransaction(c, catalog.findById(c, st.id()).orElseThrow(), RefreshTrigger.ALTER,
                        OffsetDateTime.now());
            }
            syncImmediate(c, catalog.findById(c, st.id()).orElseThrow());
        }
        storeExplanation(c, st.id());
        StreamTableRecord altered = catalog.findById(c, st.id()).orElseThrow();
        log.info("altered stream table {}", altered.name());
        return altered;
    }

    /** Re-resolves a stream table's sources, tracks them, and refills it FULL. */
    private void reattach(Connection c, StreamTableRecord st, String requester) throws SQLException {
        QueryDescription description = describer.describe(c, st.query(), catalog.streamTableRelids(c), requester);
        changeSources.track(c, description.sources());
        StorageTable.migrate(c, st.name(), StorageColumns.of(c, st.relid()), description.columns());
        recordDependencies(c, st.id(), description);
        changeSources.untrackUnused(c);
        refresher.refreshInTransaction(c, catalog.findById(c, st.id()).orElseThrow(), RefreshTrigger.ALTER,
                OffsetDateTime.now());
        syncImmediate(c, catalog.findById(c, st.id()).orElseThrow()); // a recreated source has lost them
    }

    private void dropIn(Connection c, StreamTableRecord st, boolean cascade) throws SQLException {
        List<StreamTableRecord> readers = catalog.readersOf(c, st.relid());
        if (!readers.isEmpty() && !cascade) {
            throw new PgTrickleException(ErrorCode.HAS_DEPENDANTS, "cannot drop stream table " + st.name()
                    + ": stream table" + (readers.size() > 1 ? "s " : " ")
                    + String.join(", ", readers.stream().map(r -> r.name().toString()).toList())
                    + (readers.size() > 1 ? " read" : " reads") + " it; drop those first, or drop with cascade");
        }
        if (!cascade && OutboxWriter.enabled(c, st.id())) {
            throw new PgTrickleException(ErrorCode.HAS_DEPENDANTS, "cannot drop stream table " + st.name()
                    + ": it has an outbox, which publishers and consumer groups may still read; disable_outbox("
                    + "'" + st.name() + "'" + ") first, or drop with cascade (the outbox and its"
                    + " consumer groups go with it)");
        }
        for (StreamTableRecord reader : readers) {
            Optional<StreamTableRecord> still = catalog.findById(c, reader.id());
            if (still.isPresent()) {
                dropIn(c, still.get(), true);
            }
        }
        ImmediateTriggers.drop(c, st.id());
        AggregateState.dropAll(c, st.relid());
        // Else PostgreSQL would leave the stream table's publication behind, publishing nothing.
        StreamTablePublications.dropWith(c, st.id());
        Jdbc.executeRaw(c, "DROP TABLE IF EXISTS " + st.name().quoted());
        catalog.delete(c, st.id());
        log.info("dropped stream table {}", st.name());
    }

    /** The effective mode for a requested one; DIFFERENTIAL fails when the query cannot have it. */
    private ModeDecision decideMode(Connection c, RefreshMode requested, String query, List<String> names)
            throws SQLException {
        if (requested == RefreshMode.FULL) {
            return new ModeDecision(RefreshMode.FULL, null);
        }
        try {
            io.pgtrickle.core.ivm.IvmPlan plan = compiler.compile(c, query, names);
            io.pgtrickle.core.ivm.ClockPlans.requireSupported(plan);
            if (requested == RefreshMode.IMMEDIATE) {
                String reason = ImmediateTriggers.unsupportedReason(plan);
                if (reason != null) {
                    throw new PgTrickleException(ErrorCode.UNSUPPORTED_QUERY, "the query cannot be maintained in"
                            + " IMMEDIATE mode: " + reason + "; use refresh mode DIFFERENTIAL, AUTO or FULL");
                }
                return new ModeDecision(RefreshMode.IMMEDIATE, null);
            }
            return new ModeDecision(RefreshMode.DIFFERENTIAL, null);
        } catch (NotDifferentiable e) {
            if (requested == RefreshMode.IMMEDIATE) {
                throw new PgTrickleException(ErrorCode.UNSUPPORTED_QUERY, "the query cannot be maintained in IMMEDIATE"
                        + " mode (its triggers apply the differential delta rules): " + e.getMessage()
                        + "; use refresh mode AUTO or FULL");
            }
            if (requested == RefreshMode.DIFFERENTIAL) {
                throw new PgTrickleException(ErrorCode.UNSUPPORTED_QUERY, "the query cannot be maintained differentially: "
                        + e.getMessage() + "; use refresh mode AUTO or FULL");
            }
            return new ModeDecision(RefreshMode.FULL, e.getMessage());
        }
    }

    private record ModeDecision(RefreshMode effective, String reason) {
    }

    /**
     * Installs (again) the triggers of an IMMEDIATE stream table for its current plan, or drops
     * any it had when it is in another mode; in the caller's transaction.
     */
    private void syncImmediate(Connection c, StreamTableRecord st) throws SQLException {
        if (st.effectiveMode() != RefreshMode.IMMEDIATE) {
            ImmediateTriggers.drop(c, st.id());
            return;
        }
        ImmediateTriggers.install(c, st, refresher.plan(c, st), StorageColumns.of(c, st.relid()),
                refresher.serverCapabilities(), depth(catalog.upstreamStreamTables(c), st.id(), new HashSet<>()));
    }

    /** How many stream tables deep {@code id} reads (0: base tables only); the graph has no cycle. */
    private static int depth(Map<Long, Set<Long>> upstream, long id, Set<Long> seen) {
        int d = 0;
        for (long up : upstream.getOrDefault(id, Set.of())) {
            if (seen.add(up)) {
                d = Math.max(d, 1 + depth(upstream, up, seen));
                seen.remove(up);
            }
        }
        return d;
    }

    /**
     * Before the lifecycle transaction of a change that starts or ends IMMEDIATE maintenance takes
     * its snapshot: locks the sources against writers (waiting for those in flight), so that no
     * writer commits between the snapshot (which populates the stream table, or becomes its
     * frontier) and the moment its triggers appear or disappear. Nothing is missed or applied twice.
     * Called first in the transaction: a REPEATABLE READ snapshot is taken by its first query.
     */
    private static void lockSources(Connection c, List<QualifiedName> sources) throws SQLException {
        if (!sources.isEmpty()) {
            Jdbc.executeRaw(c, "LOCK TABLE " + String.join(", ", sources.stream().map(QualifiedName::quoted).toList())
                    + " IN SHARE ROW EXCLUSIVE MODE");
        }
    }

    /** The sources to lock for a recompute of {@code name} when it is IMMEDIATE (else none); they may be gone. */
    private List<QualifiedName> immediateSources(QualifiedName name) {
        Optional<StreamTableRecord> st = find(name);
        if (st.isEmpty() || st.get().effectiveMode() != RefreshMode.IMMEDIATE) {
            return List.of();
        }
        try {
            return lockableSources(st.get().query(), null);
        } catch (PgTrickleException e) {
            return List.of(); // the query no longer resolves: the lifecycle step reports why
        }
    }

    /** The tables (and stream tables) {@code query} reads, to lock; read outside the lifecycle transaction. */
    private List<QualifiedName> lockableSources(String query, String requester) {
        return read("cannot resolve the sources of " + query, c -> describer.describe(c, SqlText.requireSingleStatement(query),
                catalog.streamTableRelids(c), requester).sources().stream()
                .filter(io.pgtrickle.core.capture.ChangeSources::capturable).map(SourceRelation::name).toList());
    }

    private void requireNoCycle(Connection c, StreamTableRecord st, List<SourceRelation> sources) throws SQLException {
        Map<Long, Set<Long>> upstream = catalog.upstreamStreamTables(c);
        Deque<Long> todo = new ArrayDeque<>();
        for (StreamTableRecord other : catalog.all(c)) {
            if (sources.stream().anyMatch(s -> s.relid() == other.relid())) {
                todo.add(other.id());
            }
        }
        Set<Long> seen = new HashSet<>();
        while (!todo.isEmpty()) {
            long id = todo.pop();
            if (id == st.id()) {
                throw new PgTrickleException(ErrorCode.DEPENDENCY_CYCLE, "the new query of " + st.name()
                        + " would read " + st.name() + " itself (directly or through other stream tables)");
            }
            if (seen.add(id)) {
                todo.addAll(upstream.getOrDefault(id, Set.of()));
            }
        }
    }

    private void requireReadersStillValid(Connection c, StreamTableRecord st) throws SQLException {
        for (StreamTableRecord reader : catalog.readersOf(c, st.relid())) {
            try {
                describer.describe(c, reader.query(), catalog.streamTableRelids(c), null);
            } catch (PgTrickleException e) {
                throw new PgTrickleException(ErrorCode.HAS_DEPENDANTS, "the change would break stream table "
                        + reader.name() + ", which reads " + st.name() + ": " + e.getMessage(), e);
            }
        }
    }

    /** The relations and functions the stream table's query depends on, as recorded for change handling. */
    private void recordDependencies(Connection c, long id, QueryDescription description) throws SQLException {
        catalog.replaceDependencies(c, id, description.sources());
        catalog.replaceFunctionDependencies(c, id, description.functions());
    }

    private static List<String> names(List<io.pgtrickle.core.query.Column> columns) {
        return columns.stream().map(io.pgtrickle.core.query.Column::name).toList();
    }

    private static Long relid(Connection c, QualifiedName name) throws SQLException {
        return Jdbc.queryValue(c, Long.class, "SELECT to_regclass(?)::oid::bigint", name.quoted());
    }

    /**
     * Runs a lifecycle change under the lifecycle lock in one REPEATABLE READ transaction. When
     * {@code query} is given, its sources are tracked first, in a transaction of their own, and
     * transactions older than the tracking are waited for, so the snapshot that populates the
     * stream table sees every change that capture did not. If the change then fails, tracking
     * nobody needs is undone.
     */
    private <T> T lifecycle(String context, String query, String requester, Jdbc.Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            return AdvisoryLocks.withLifecycleLock(c, conn -> {
                if (query != null) {
                    startTracking(conn, query, requester);
                }
                try {
                    return Jdbc.inTransaction(conn, Connection.TRANSACTION_REPEATABLE_READ, work);
                } catch (SQLException | RuntimeException e) {
                    if (query != null) {
                        untrackQuietly(conn, e);
                    }
                    throw e;
                }
            });
        } catch (PgTrickleException e) {
            throw new PgTrickleException(e.code(), context + ": " + e.getMessage(), e);
        } catch (SQLException e) {
            throw SqlErrors.translate(context, e);
        }
    }

    private void startTracking(Connection c, String query, String requester) throws SQLException {
        String text = SqlText.requireSingleStatement(query);
        changeSources.prepareTracking(c);
        boolean added = Jdbc.inTransaction(c, Connection.TRANSACTION_READ_COMMITTED, tx -> {
            boolean tracked = changeSources.track(tx,
                    describer.describe(tx, text, catalog.streamTableRelids(tx), requester).sources());
            if (tracked) {
                // WAL capture may have set REPLICA IDENTITY FULL on a published stream table.
                StreamTablePublications.syncAllColumns(tx);
            }
            return tracked;
        });
        if (added) {
            ChangeSources.awaitOlderTransactions(c, trackingTimeout);
        }
    }

    private void untrackQuietly(Connection c, Exception failure) {
        try {
            Jdbc.inTransaction(c, Connection.TRANSACTION_READ_COMMITTED, tx -> {
                changeSources.untrackUnused(tx);
                return null;
            });
        } catch (SQLException | RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    private <T> T read(String context, Jdbc.Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            return work.run(c);
        } catch (SQLException e) {
            throw SqlErrors.translate(context, e);
        }
    }
}
