package io.pgtrickle.bench.load;

import io.pgtrickle.bench.ConnectionFactory;
import io.pgtrickle.bench.Figures;
import io.pgtrickle.bench.LongList;
import io.pgtrickle.bench.MultisetCheck;
import io.pgtrickle.bench.Pacer;
import io.pgtrickle.bench.Quantiles;
import io.pgtrickle.bench.Sql;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.sql.QualifiedName;
import java.lang.management.ManagementFactory;
import java.math.BigDecimal;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

/**
 * End-to-end lag under sustained writes. Writers insert orders at a target rate (one phase per
 * rate) while the running engine keeps three stream tables over them current on a short
 * schedule: an aggregate, a join, and a join with an aggregate.
 *
 * <p>Lag is measured with a watermark, not by looking for rows: every writer transaction returns
 * its id ({@code pg_current_xact_id()}), and the writer notes when its commit was acknowledged. A
 * poller reads each stream table's frontier (the snapshot its contents were computed at, committed
 * with them) every few milliseconds. A transaction is visible in a stream table from the first
 * poll whose frontier sees it; its lag is that poll's time minus the acknowledgement. Both times
 * are this JVM's monotonic clock. This works for every query shape, including aggregates whose
 * rows do not name the orders in them, and the lag includes up to one poll interval of sampling.
 */
public final class LoadBench {
    static final String CUSTOMERS = "load_customers";
    static final String ORDERS = "load_orders";
    static final String MARKER = "pgtrickle bench load";
    private static final int CUSTOMER_COUNT = 1000;
    private static final int PRELOADED_ORDERS = 20_000;

    /** The three stream tables: name and defining query. */
    static final Map<String, String> STREAM_TABLES = streamTables();

    private static Map<String, String> streamTables() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("load_aggregate", "SELECT customer_id, count(*) AS orders, sum(amount) AS total FROM " + ORDERS
                + " GROUP BY customer_id");
        m.put("load_join", "SELECT o.id, o.amount, c.region FROM " + ORDERS + " o JOIN " + CUSTOMERS
                + " c ON c.id = o.customer_id");
        m.put("load_join_aggregate", "SELECT c.region, count(*) AS orders, sum(o.amount) AS total FROM " + ORDERS
                + " o JOIN " + CUSTOMERS + " c ON c.id = o.customer_id GROUP BY c.region");
        return m;
    }

    private final PgTrickleEngine engine;
    private final ConnectionFactory connections;
    private final LoadOptions options;
    private final Consumer<String> progress;
    private LoadAudit audit;

    public LoadBench(PgTrickleEngine engine, ConnectionFactory connections, LoadOptions options,
                     Consumer<String> progress) {
        this.engine = engine;
        this.connections = connections;
        this.options = options;
        this.progress = progress;
    }

    /** The lag of one stream table in one phase; {@code notVisible} transactions never showed up. */
    public record Lag(String streamTable, Quantiles lag, long notVisible, int refreshesSeen, long differingRows) {
        public boolean invariantHeld() {
            return differingRows == 0;
        }
    }

    /** One phase: the target and achieved rates, lags, and the engine's resources meanwhile. */
    public record Phase(long targetRate, double achievedRate, long rows, long transactions, List<Lag> lags,
                        double cpuMeanPercent, double cpuMaxPercent, double heapMeanMb, double heapMaxMb,
                        double rssMaxMb, String error) {
    }

    /** The measured phases, and the audit of every writer transaction (null without {@code --audit}). */
    public record Run(List<Phase> phases, AuditResult audit) {
    }

    public Run run() throws Exception {
        try (Connection c = engine.dataSource().getConnection()) {
            prepare(c);
            try {
                if (options.audit()) {
                    audit = LoadAudit.install(c, engine);
                    progress.accept("audit: logging every buffer row of " + ORDERS + " into " + LoadAudit.LOG
                            + " and every change capture delivers");
                }
                engine.start();
                int phaseNumber = 0;
                if (!options.warmup().isZero()) {
                    progress.accept("warm-up, not measured:");
                    phase(c, options.rates().get(0), options.warmup(), phaseNumber++);
                }
                List<Phase> phases = new ArrayList<>();
                for (long rate : options.rates()) {
                    phases.add(phase(c, rate, options.duration(), phaseNumber++));
                }
                AuditResult audited = null;
                if (audit != null) {
                    audit.stop();
                    audited = audit.check(c);
                    audited.lines().forEach(progress);
                }
                return new Run(phases, audited);
            } finally {
                if (audit != null) {
                    audit.stop();
                }
                if (options.dropAtEnd()) {
                    drop(c);
                }
            }
        }
    }

    private void prepare(Connection c) throws SQLException {
        String comment = Sql.value(c, String.class, "SELECT obj_description(to_regclass(?), 'pg_class')",
                "public." + ORDERS);
        Boolean exists = Sql.value(c, Boolean.class, "SELECT to_regclass(?) IS NOT NULL", "public." + ORDERS);
        if (Boolean.TRUE.equals(exists) && !MARKER.equals(comment)) {
            throw new PgTrickleException(ErrorCode.NAME_TAKEN, "table public." + ORDERS + " exists and was not made"
                    + " by this benchmark; run it in a database of its own");
        }
        drop(c);
        Sql.execute(c,
                "CREATE TABLE " + CUSTOMERS + " (id integer PRIMARY KEY, region text NOT NULL)",
                "INSERT INTO " + CUSTOMERS + " SELECT i, (ARRAY['AFRICA','AMERICA','ASIA','EUROPE','MIDDLE EAST'])"
                        + "[1 + i % 5] FROM generate_series(1, " + CUSTOMER_COUNT + ") i",
                "CREATE TABLE " + ORDERS + " (id bigserial PRIMARY KEY, customer_id integer NOT NULL,"
                        + " amount numeric(12,2) NOT NULL, written_at timestamptz NOT NULL DEFAULT clock_timestamp())",
                "COMMENT ON TABLE " + ORDERS + " IS '" + MARKER + "'",
                "CREATE INDEX ON " + ORDERS + " (customer_id)",
                "INSERT INTO " + ORDERS + " (customer_id, amount) SELECT 1 + i % " + CUSTOMER_COUNT
                        + ", (i % 1000) + 0.99 FROM generate_series(1, " + PRELOADED_ORDERS + ") i",
                "ANALYZE " + CUSTOMERS, "ANALYZE " + ORDERS);
        for (Map.Entry<String, String> st : STREAM_TABLES.entrySet()) {
            engine.streamTables().create(StreamTableSpec.parse(st.getKey(), st.getValue(), options.schedule(),
                    "DIFFERENTIAL"));
        }
        progress.accept("created " + String.join(", ", STREAM_TABLES.keySet()) + " (DIFFERENTIAL, schedule "
                + options.schedule() + ") over " + PRELOADED_ORDERS + " orders");
    }

    private void drop(Connection c) throws SQLException {
        for (String name : STREAM_TABLES.keySet()) {
            if (engine.streamTables().find(QualifiedName.parse(name)).isPresent()) {
                engine.streamTables().drop(QualifiedName.parse(name), false);
            }
        }
        Sql.execute(c, "DROP TABLE IF EXISTS " + ORDERS, "DROP TABLE IF EXISTS " + CUSTOMERS);
        LoadAudit.drop(c);
    }

    private Phase phase(Connection c, long rate, java.time.Duration length, int phaseNumber) throws Exception {
        long txRate = Math.max(1, Math.round((double) rate / options.batch()));
        progress.accept(String.format(Locale.ROOT, "phase %d rows/s: %d writers, %d row(s) per transaction, %s",
                rate, options.writers(), options.batch(), Figures.seconds(length)));
        List<Writer> writers = new ArrayList<>();
        for (int i = 0; i < options.writers(); i++) {
            // Each writer's data follows from the seed, the phase and the writer alone.
            writers.add(new Writer(connections.open(), new SplittableRandom(options.seed() * 1_000_003L
                    + phaseNumber * 1_009L + i)));
        }
        Poller poller = new Poller();
        ResourceSampler sampler = new ResourceSampler();
        sampler.benchThread(poller.thread);
        poller.thread.start();
        long start = System.nanoTime() + 50_000_000L;
        for (int i = 0; i < writers.size(); i++) {
            Writer w = writers.get(i);
            w.start(sampler, new Pacer(start, length, txRate, writers.size(), i));
        }
        long nextProgress = start + 2_000_000_000L;
        while (writers.stream().anyMatch(w -> w.thread.isAlive())) {
            Thread.sleep(50);
            if (System.nanoTime() >= nextProgress) {
                long rows = writers.stream().mapToLong(w -> w.rows.get()).sum();
                progress.accept(String.format(Locale.ROOT, "  %5.1fs  %,d rows written (%.0f rows/s)",
                        (System.nanoTime() - start) / 1e9, rows, rows / ((System.nanoTime() - start) / 1e9)));
                nextProgress += 2_000_000_000L;
            }
        }
        double seconds = length.toNanos() / 1e9;
        sampler.close();
        String error = writers.stream().map(w -> w.failure.get()).filter(f -> f != null).findFirst()
                .map(Throwable::getMessage).orElse(null);
        long[] xids = writers.stream().flatMapToLong(w -> Arrays.stream(w.xids.toArray())).toArray();
        long[] acks = writers.stream().flatMapToLong(w -> Arrays.stream(w.acks.toArray())).toArray();
        long rows = writers.stream().mapToLong(w -> w.rows.get()).sum();
        writers.forEach(Writer::close);
        if (audit != null) {
            writers.forEach(w -> audit.record(w.xids.toArray(), w.idCounts.toArray(), w.ids.toArray()));
        }

        awaitVisible(poller, xids);
        poller.stop();
        List<Lag> lags = new ArrayList<>();
        for (String st : STREAM_TABLES.keySet()) {
            lags.add(lag(c, st, poller.observations(st), xids, acks));
        }
        List<ResourceSampler.Sample> samples = sampler.samples();
        Phase p = new Phase(rate, rows / seconds, rows, xids.length, lags,
                samples.stream().mapToDouble(ResourceSampler.Sample::engineCpuPercent).average().orElse(Double.NaN),
                samples.stream().mapToDouble(ResourceSampler.Sample::engineCpuPercent).max().orElse(Double.NaN),
                samples.stream().mapToDouble(ResourceSampler.Sample::heapMb).average().orElse(Double.NaN),
                samples.stream().mapToDouble(ResourceSampler.Sample::heapMb).max().orElse(Double.NaN),
                samples.stream().mapToDouble(ResourceSampler.Sample::rssMb).max().orElse(Double.NaN), error);
        for (Lag l : lags) {
            progress.accept(String.format(Locale.ROOT, "  %-20s lag p50 %s ms, p99 %s ms, max %s ms; %d refreshes;"
                            + " invariant %s", l.streamTable(), Figures.millis(l.lag().medianMillis()),
                    Figures.millis(l.lag().p99Millis()), Figures.millis(l.lag().maxMillis()), l.refreshesSeen(),
                    l.invariantHeld() ? "held" : "FAILED (" + l.differingRows() + " rows differ)"));
        }
        return p;
    }

    /** Waits until every stream table's frontier sees every transaction of the phase, or the drain timeout. */
    private void awaitVisible(Poller poller, long[] xids) throws InterruptedException {
        long deadline = System.nanoTime() + options.drainTimeout().toNanos();
        while (System.nanoTime() < deadline) {
            boolean all = true;
            for (String st : STREAM_TABLES.keySet()) {
                List<Observation> o = poller.observations(st);
                Snapshot last = o.isEmpty() ? null : o.get(o.size() - 1).snapshot();
                for (long xid : xids) {
                    if (last == null || !last.sees(xid)) {
                        all = false;
                        break;
                    }
                }
            }
            if (all) {
                return;
            }
            Thread.sleep(20);
        }
        progress.accept("  not every transaction became visible within " + Figures.seconds(options.drainTimeout()));
    }

    private Lag lag(Connection c, String st, List<Observation> observations, long[] xids, long[] acks)
            throws SQLException {
        long[] lags = new long[xids.length];
        int n = 0;
        long missing = 0;
        for (int i = 0; i < xids.length; i++) {
            int first = firstSeeing(observations, xids[i]);
            if (first < 0) {
                missing++;
            } else {
                // A poll may land between the commit and the writer's acknowledgement: lag 0 then.
                lags[n++] = Math.max(0, observations.get(first).nanos() - acks[i]);
            }
        }
        long differing = MultisetCheck.differences(c, "public." + st, STREAM_TABLES.get(st));
        return new Lag(st, Quantiles.of(Arrays.copyOf(lags, n)), missing, observations.size() - 1, differing);
    }

    /** The first observation that sees {@code xid}; frontiers only grow, so a binary search finds it. */
    static int firstSeeing(List<Observation> observations, long xid) {
        int lo = 0;
        int hi = observations.size();
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (observations.get(mid).snapshot().sees(xid)) {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        return lo == observations.size() ? -1 : lo;
    }

    /** A frontier change the poller saw, and when. */
    record Observation(long nanos, Snapshot snapshot) {
    }

    /** Reads the stream tables' frontiers every poll interval and keeps each change. */
    private final class Poller {
        final Thread thread = new Thread(this::loop, "bench-poller");
        private final Map<String, List<Observation>> seen = new LinkedHashMap<>();
        private final Map<String, String> lastText = new LinkedHashMap<>();
        private final AtomicReference<Throwable> failure = new AtomicReference<>();
        private volatile boolean stopping;

        Poller() {
            thread.setDaemon(true);
            STREAM_TABLES.keySet().forEach(st -> seen.put(st, new ArrayList<>()));
        }

        private void loop() {
            try (Connection c = connections.open();
                 PreparedStatement ps = c.prepareStatement("SELECT pgt_name, frontier::text FROM"
                         + " pgtrickle.pgt_stream_tables WHERE pgt_schema = 'public' AND pgt_name = ANY(?)")) {
                ps.setArray(1, c.createArrayOf("text", STREAM_TABLES.keySet().toArray()));
                while (!stopping) {
                    try (ResultSet rs = ps.executeQuery()) {
                        long now = System.nanoTime();
                        while (rs.next()) {
                            String name = rs.getString(1);
                            String frontier = rs.getString(2);
                            if (frontier != null && !frontier.equals(lastText.get(name))) {
                                lastText.put(name, frontier);
                                synchronized (seen) {
                                    seen.get(name).add(new Observation(now, Snapshot.parse(frontier)));
                                }
                            }
                        }
                    }
                    Thread.sleep(Math.max(1, options.poll().toMillis()));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (SQLException | RuntimeException e) {
                failure.set(e);
            }
        }

        List<Observation> observations(String st) {
            synchronized (seen) {
                return List.copyOf(seen.get(st));
            }
        }

        void stop() throws InterruptedException {
            stopping = true;
            thread.join(5000);
            if (failure.get() != null) {
                throw new IllegalStateException("the visibility poller failed: " + failure.get().getMessage(),
                        failure.get());
            }
        }
    }

    /** One writer: its own connection, inserting a batch per transaction at its pace. */
    private final class Writer {
        final Connection connection;
        final Thread thread = new Thread(this::write, "bench-writer");
        final LongList xids = new LongList();
        final LongList acks = new LongList();
        /** With the audit only: the order ids of each transaction, and how many it wrote. */
        final LongList ids = new LongList();
        final LongList idCounts = new LongList();
        final AtomicLong rows = new AtomicLong();
        final AtomicReference<Throwable> failure = new AtomicReference<>();
        private final SplittableRandom random;
        private Pacer pace;
        private ResourceSampler sampler;

        Writer(Connection connection, SplittableRandom random) {
            this.connection = connection;
            this.random = random;
            thread.setDaemon(true);
        }

        void start(ResourceSampler sampler, Pacer pace) {
            this.sampler = sampler;
            this.pace = pace;
            sampler.benchThread(thread);
            thread.start();
        }

        private void write() {
            boolean auditing = audit != null;
            // The ids come back in the same round trip, so the audit costs the writers no extra one.
            String sql = "WITH ins AS (INSERT INTO " + ORDERS + " (customer_id, amount)"
                    + " SELECT * FROM unnest(?::int[], ?::numeric[]) RETURNING id)"
                    + " SELECT pg_current_xact_id()::text::bigint, count(*)" + (auditing ? ", array_agg(id)" : "")
                    + " FROM ins";
            Integer[] customers = new Integer[options.batch()];
            BigDecimal[] amounts = new BigDecimal[options.batch()];
            try (PreparedStatement ps = connection.prepareStatement(sql)) {
                for (long k = 0; pace.sends(k, System.nanoTime()); k++) {
                    for (int r = 0; r < customers.length; r++) {
                        customers[r] = 1 + random.nextInt(CUSTOMER_COUNT);
                        amounts[r] = BigDecimal.valueOf(random.nextInt(100_000), 2);
                    }
                    ps.setArray(1, connection.createArrayOf("int4", customers));
                    ps.setArray(2, connection.createArrayOf("numeric", amounts));
                    pace.awaitDue(k);
                    try (ResultSet rs = ps.executeQuery()) {
                        rs.next();
                        // Auto-commit: the result arrives after the commit.
                        long ack = System.nanoTime();
                        xids.add(rs.getLong(1));
                        acks.add(ack);
                        rows.addAndGet(rs.getLong(2));
                        if (auditing) {
                            Long[] written = (Long[]) rs.getArray(3).getArray();
                            idCounts.add(written.length);
                            for (Long id : written) {
                                ids.add(id);
                            }
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (SQLException | RuntimeException e) {
                failure.compareAndSet(null, e);
            } finally {
                sampler.benchThreadEnded(ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime());
            }
        }

        void close() {
            try {
                connection.close();
            } catch (SQLException ignored) {
                // the phase is over
            }
        }
    }
}
