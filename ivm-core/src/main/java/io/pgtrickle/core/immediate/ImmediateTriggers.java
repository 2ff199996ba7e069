package io.pgtrickle.core.immediate;

import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.capture.ChangeWindow;
import io.pgtrickle.core.capture.RowDecoder;
import io.pgtrickle.core.ivm.ClockPlans;
import io.pgtrickle.core.ivm.DeltaApplier;
import io.pgtrickle.core.ivm.IvmPlan;
import io.pgtrickle.core.query.Column;
import io.pgtrickle.core.refresh.FullRefresh;
import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.core.sql.ServerCapabilities;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The triggers that keep an IMMEDIATE stream table exact at every commit: on each source,
 * statement-level AFTER INSERT, UPDATE and DELETE triggers with transition tables, whose function
 * turns the transition tables into the source's change window (the capture's row images, so the
 * same decoder reads them) and runs the very statements a differential refresh would run for that
 * window ({@link DeltaApplier} through a {@link PlpgsqlEmitter}); and a TRUNCATE trigger that
 * recomputes the stream table.
 *
 * <p>Writers are serialised by {@link WriterLocks}: by the keys they produce for a plan over one
 * table, else per stream table. Under READ COMMITTED the lock makes a second writer wait until the
 * first commits, and every statement after it takes a new snapshot that sees the first writer's
 * rows (so a join of two concurrent inserts is not lost). Under REPEATABLE READ or SERIALIZABLE
 * the snapshot is fixed: PostgreSQL's first-updater-wins rule then fails the second writer with a
 * serialization error instead of letting it compute a delta against stale sources.
 */
public final class ImmediateTriggers {
    private ImmediateTriggers() {
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ImmediateTriggers.class);
    private static final String[] EVENTS = {"INSERT", "UPDATE", "DELETE"};
    /** The variables the statements of a trigger (or recompute) function use, and its BEGIN. */
    private static final String DECLARE = "DECLARE __pgt_count bigint; __pgt_rows bigint := 0; __pgt_hj text; __pgt_mj text;\n"
            + "BEGIN\n";

    /** Why {@code plan} cannot be maintained in IMMEDIATE mode, or {@code null}. */
    public static String unsupportedReason(IvmPlan plan) {
        if (ClockPlans.of(plan) != null) {
            return "the query reads the clock (now(), current_timestamp…): IMMEDIATE triggers run only when a source"
                    + " changes, so rows could not leave the window as time passes";
        }
        return null;
    }

    /**
     * (Re)creates the functions and triggers of stream table {@code st} for {@code plan}, in the
     * caller's transaction: first dropping those it had.
     *
     * @param depth how many stream tables deep it reads (0: base tables only), which orders its
     *     triggers before those of the stream tables it reads
     */
    public static void install(Connection c, StreamTableRecord st, IvmPlan plan, List<Column> columns,
                               ServerCapabilities server, int depth) throws SQLException {
        drop(c, st.id());
        WriterLocks locks = WriterLocks.of(st.id(), plan);
        Jdbc.executeRaw(c, locks.installSql());
        String truncate = truncateBody(st, plan, columns, server);
        // The recompute on its own, for the schema changes that move rows in or out unseen by the
        // triggers (a partition attached or detached: pgtrickle._immediate_members_sync).
        Jdbc.executeRaw(c, "CREATE FUNCTION pgtrickle." + Identifiers.quote("_imm_" + st.id() + "_recompute")
                + "() RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path FROM CURRENT AS " + Identifiers.literal(
                        DECLARE + locks.wholeTableSql() + "\n" + truncate + "END"));
        for (long relid : plan.relids()) {
            QualifiedName source = sourceName(c, relid);
            requireNotInheritanceChild(c, relid, source);
            String function = functionName(st.id(), relid);
            createFunction(c, function, locks, truncate, deltaBody(c, st, plan, locks, relid, source, server, null));
            // A statement naming a partitioned ancestor of a partition source fires only the
            // ancestor's triggers: those see the rows within the partition's bounds.
            String bounds = Jdbc.queryValue(c, String.class, "SELECT CASE WHEN relispartition THEN"
                    + " pg_get_partition_constraintdef(oid) END FROM pg_class WHERE oid = ?::oid", relid);
            if (bounds != null) {
                String ancestorFunction = "pgtrickle." + Identifiers.quote("_imm_" + st.id() + "_" + relid + "_a");
                createFunction(c, ancestorFunction, locks, truncate, deltaBody(c, st, plan, locks, relid, source, server,
                        bounds));
                for (QualifiedName ancestor : ancestors(c, relid)) {
                    createTriggers(c, ancestor, ancestorFunction, st.id(), depth);
                }
            }
            // A statement fires only the statement triggers of the table it names: a partition or an
            // inheritance child written directly needs its own. The parent's transition tables hold
            // the rows of its members, so a statement on it is seen once. The images are keyed by
            // column name, so the parent's function reads a member's rows as its own.
            List<QualifiedName> tables = new ArrayList<>(List.of(source));
            tables.addAll(members(c, relid));
            if (tables.size() > 1 || bounds != null) {
                warnIfMembersGoUnwatched(c, st, source);
            }
            for (QualifiedName table : tables) {
                createTriggers(c, table, function, st.id(), depth);
            }
        }
    }

    private static void createFunction(Connection c, String function, WriterLocks locks, String truncate, String delta)
            throws SQLException {
        String body = DECLARE + locks.onEntry() + "\n"
                + "IF TG_OP = 'TRUNCATE' THEN\n" + truncate + "RETURN NULL;\nEND IF;\n"
                + delta
                + "RETURN NULL;\nEND";
        // As the engine (its owner) with the engine's search_path: the delta reads and writes what
        // a refresh would (storage, state, sources), resolving the query's names as a refresh
        // does, whatever the writer may touch or has set; writers need no grant on the stream table.
        Jdbc.executeRaw(c, "CREATE FUNCTION " + function + "() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER"
                + " SET search_path FROM CURRENT AS " + Identifiers.literal(body));
    }

    /**
     * An inheritance child (not a partition) as a source: a statement on its parent changes its
     * rows firing only the parent's statement triggers, whose transition tables do not say which
     * table a row is in. Capture uses row triggers there; IMMEDIATE refuses it.
     */
    private static void requireNotInheritanceChild(Connection c, long relid, QualifiedName source) throws SQLException {
        if (Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class, "SELECT EXISTS (SELECT 1 FROM pg_inherits i JOIN pg_class r"
                + " ON r.oid = i.inhrelid WHERE i.inhrelid = ?::oid AND NOT r.relispartition)", relid))) {
            throw new io.pgtrickle.core.error.PgTrickleException(io.pgtrickle.core.error.ErrorCode.UNSUPPORTED_QUERY,
                    "the query cannot be maintained in IMMEDIATE mode: source " + source + " is an inheritance child,"
                    + " whose rows statements on its parent change unseen by its statement triggers; read the parent"
                    + " (with a filter), or use refresh mode DIFFERENTIAL");
        }
    }

    /**
     * Without a superuser there are no event triggers: a partition created or attached later gets
     * no triggers and its rows are not recomputed in (pgtrickle._immediate_members_sync).
     */
    private static void warnIfMembersGoUnwatched(Connection c, StreamTableRecord st, QualifiedName source)
            throws SQLException {
        if (!Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class, "SELECT EXISTS (SELECT 1 FROM pg_event_trigger"
                + " WHERE evtname = 'pgtrickle_check_immediate_ddl' AND evtenabled <> 'D')"))) {
            LOG.warn("IMMEDIATE stream table {}: partitions or children of {} created, attached or detached later are not"
                    + " followed (the catalog was installed without a superuser, so without event triggers); alter the"
                    + " stream table after such a change to re-install its triggers", st.name(), source);
        }
    }

    /** The partitioned ancestors of partition {@code relid}, nearest first. */
    private static List<QualifiedName> ancestors(Connection c, long relid) throws SQLException {
        List<QualifiedName> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT n.nspname::text, r.relname::text"
                + " FROM pg_partition_ancestors(" + relid + "::oid) WITH ORDINALITY a(oid, o) JOIN pg_class r ON r.oid = a.oid"
                + " JOIN pg_namespace n ON n.oid = r.relnamespace WHERE a.oid <> " + relid + "::oid ORDER BY a.o")) {
            while (rs.next()) {
                out.add(new QualifiedName(rs.getString(1), rs.getString(2)));
            }
        }
        return out;
    }

    private static void createTriggers(Connection c, QualifiedName table, String function, long id, int depth)
            throws SQLException {
        for (String event : EVENTS) {
            String referencing = switch (event) {
                case "INSERT" -> "NEW TABLE AS __pgt_new";
                case "DELETE" -> "OLD TABLE AS __pgt_old";
                default -> "OLD TABLE AS __pgt_old NEW TABLE AS __pgt_new";
            };
            Jdbc.executeRaw(c, "CREATE TRIGGER " + Identifiers.quote(triggerName(id, depth, event)) + " AFTER " + event
                    + " ON " + table.quoted() + " REFERENCING " + referencing + " FOR EACH STATEMENT EXECUTE FUNCTION "
                    + function + "()");
        }
        Jdbc.executeRaw(c, "CREATE TRIGGER " + Identifiers.quote(triggerName(id, depth, "TRUNCATE")) + " AFTER TRUNCATE ON "
                + table.quoted() + " FOR EACH STATEMENT EXECUTE FUNCTION " + function + "()");
    }

    /** The partitions and inheritance children of {@code relid}, at every level. */
    private static List<QualifiedName> members(Connection c, long relid) throws SQLException {
        List<QualifiedName> out = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("WITH RECURSIVE m(oid) AS ("
                + "SELECT inhrelid FROM pg_inherits WHERE inhparent = " + relid + "::oid UNION "
                + "SELECT i.inhrelid FROM pg_inherits i JOIN m ON i.inhparent = m.oid) "
                + "SELECT n.nspname::text, r.relname::text FROM m JOIN pg_class r ON r.oid = m.oid"
                + " JOIN pg_namespace n ON n.oid = r.relnamespace WHERE r.relkind IN ('r', 'p', 'f') ORDER BY 1, 2")) {
            while (rs.next()) {
                out.add(new QualifiedName(rs.getString(1), rs.getString(2)));
            }
        }
        return out;
    }

    /** Drops the functions (and with them the triggers) of stream table {@code id}; none is fine. */
    public static void drop(Connection c, long id) throws SQLException {
        List<String> functions = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT p.oid::regprocedure::text FROM pg_proc p"
                + " WHERE p.pronamespace = 'pgtrickle'::regnamespace AND p.proname LIKE " + Identifiers.literal(
                        "\\_imm\\_" + id + "\\_%"))) {
            while (rs.next()) {
                functions.add(rs.getString(1));
            }
        }
        for (String f : functions) {
            Jdbc.executeRaw(c, "DROP FUNCTION " + f + " CASCADE");
        }
    }

    /** The trigger function of stream table {@code id} on source {@code relid}. */
    static String functionName(long id, long relid) {
        return "pgtrickle." + Identifiers.quote("_imm_" + id + "_" + relid);
    }

    /**
     * PostgreSQL fires a table's triggers in name order; the names make the deepest stream table
     * fire first. Where a stream table reads a source both directly and through another IMMEDIATE
     * stream table (a diamond), its trigger on the source must apply the source's change while the
     * other still holds the old contents (a delta for one changed input sees the others as they
     * were); the other's MERGE then fires its trigger with that change, against the new source.
     */
    static String triggerName(long id, int depth, String event) {
        return "__pgt_imm_" + String.format(java.util.Locale.ROOT, "%03d", 999 - Math.min(depth, 999)) + "_" + id + "_"
                + event.toLowerCase(java.util.Locale.ROOT);
    }

    private static QualifiedName sourceName(Connection c, long relid) throws SQLException {
        String schema = Jdbc.queryValue(c, String.class, "SELECT n.nspname::text FROM pg_class r JOIN pg_namespace n"
                + " ON n.oid = r.relnamespace WHERE r.oid = ?::oid", relid);
        String name = Jdbc.queryValue(c, String.class, "SELECT relname::text FROM pg_class WHERE oid = ?::oid", relid);
        return new QualifiedName(schema, name);
    }

    /**
     * The statements for one writer statement on source {@code relid}: its window from the
     * transition tables (weight −1 for old rows, +1 for new), decoded as a refresh decodes a
     * window, then the delta.
     */
    private static String deltaBody(Connection c, StreamTableRecord st, IvmPlan plan, WriterLocks locks, long relid,
                                    QualifiedName source, ServerCapabilities server, String bounds) throws SQLException {
        String window = "__pgt_window_" + relid;
        String oldImage = Jdbc.queryValue(c, String.class, "SELECT pgtrickle._row_image(?::oid, 'o', false)", relid);
        String newImage = Jdbc.queryValue(c, String.class, "SELECT pgtrickle._row_image(?::oid, 'n', false)", relid);
        String create = "CREATE TEMP TABLE " + Identifiers.quote(window) + " ON COMMIT DROP AS ";
        String where = bounds == null ? "" : " WHERE " + bounds;
        String olds = "SELECT pg_current_xact_id() AS xid, 0::bigint AS seq, (-1)::smallint AS weight, " + oldImage
                + " AS row FROM __pgt_old o" + where;
        String news = "SELECT pg_current_xact_id() AS xid, 0::bigint AS seq, 1::smallint AS weight, " + newImage
                + " AS row FROM __pgt_new n" + where;
        PlpgsqlEmitter e = new PlpgsqlEmitter("_s" + st.id(), locks);
        e.raw("IF TG_OP = 'INSERT' THEN");
        e.execute(create + news);
        e.raw("ELSIF TG_OP = 'DELETE' THEN");
        e.execute(create + olds);
        e.raw("ELSE");
        e.execute(create + olds + " UNION ALL " + news);
        e.raw("END IF;");
        // A statement that changed no row (an UPDATE matching nothing) has nothing to apply.
        e.raw("EXECUTE 'SELECT count(*) FROM pg_temp." + Identifiers.quote(window).replace("'", "''") + "' INTO __pgt_rows;\n"
                + "IF __pgt_rows = 0 THEN RETURN NULL; END IF; -- its (reused, empty) window stays for the next");
        RowDecoder decoder = plan.decoders().get(relid);
        if (decoder == null) {
            decoder = RowDecoder.load(c, relid, source);
        }
        for (String statement : ChangeWindow.decodeSql(window, decoder)) {
            e.execute(statement);
        }
        DeltaApplier.apply(e, st.name(), st.relid(), plan, Map.of(relid, window), null, server, null);
        return e.finish();
    }

    /** A TRUNCATE of a source: recompute the stream table (and its aggregate state) fully. */
    private static String truncateBody(StreamTableRecord st, IvmPlan plan, List<Column> columns,
                                       ServerCapabilities server) {
        PlpgsqlEmitter e = new PlpgsqlEmitter("_s" + st.id(), null);
        e.raw("__pgt_rows := " + Long.MAX_VALUE + "; -- a recompute: not a small delta (joins as the planner likes)");
        String state = DeltaApplier.stateReplaceSql(st.relid(), plan);
        if (state != null) {
            e.execute(state);
        }
        e.execute(FullRefresh.mergeSql(st.name(), columns, st.query(), DeltaApplier.fullRefreshRows(st.relid(), plan),
                server));
        return e.finish();
    }
}
