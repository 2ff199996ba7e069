package io.pgtrickle.core.refresh;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.embedded.EmbeddedPostgresServer;
import io.pgtrickle.testing.TestDatabase;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The fixed cost of a refresh, counted load-independently: every statement the server runs
 * between two probes around one refresh, from its own log ({@code log_min_duration_statement = 0}
 * on a server of this test's own). Cases: a refresh with nothing to do right after another; the
 * same after a commit of an unrelated table (which needs a capture barrier); and one with 1,000
 * changed rows of a single-table aggregate (TPC-H q6-like) and a two-table join (q12-like).
 * Upper bounds guard against the round trips creeping back; {@code -Dpgtrickle.statements.print=true}
 * prints each refresh's statements.
 */
class RefreshStatementsIT {
    private static final Pattern LINE = Pattern.compile(
            "^\\[(\\d+)]LOG:  duration: ([0-9.]+) ms  (parse|bind|execute|statement)[^:]*: (.*)$");

    private static Path logs;
    private static EmbeddedPostgresServer server;
    private static TestDatabase db;
    private static PgTrickleEngine engine;
    private static StreamTables api;

    @BeforeAll
    static void start() throws IOException {
        logs = Files.createTempDirectory("pgt-statements");
        server = EmbeddedPostgresServer.start(new EmbeddedPostgresServer.Options(0, null, false, Map.of(
                "logging_collector", "on", "log_directory", logs.toString(), "log_filename", "pg.log",
                "log_min_duration_statement", "0", "log_line_prefix", "[%p]", "log_rotation_size", "0")));
        db = TestDatabase.create(server, "statements");
        engine = PgTrickleEngine.open(EngineFixture.config(db).withCapturePollInterval(
                java.time.Duration.ofMillis(Long.getLong("pgtrickle.capture.pollIntervalMs", 10))));
        api = engine.streamTables();
        db.execute("CREATE TABLE li (id int PRIMARY KEY, ord int NOT NULL, qty numeric NOT NULL, price numeric NOT NULL,"
                        + " disc numeric NOT NULL, mode text NOT NULL)",
                "CREATE TABLE ord (id int PRIMARY KEY, prio text NOT NULL)",
                "CREATE TABLE unrelated (id int)",
                "INSERT INTO ord SELECT i, 'P' || (i % 5) FROM generate_series(1, 20000) i",
                "INSERT INTO li SELECT i, 1 + i % 20000, i % 50, i * 0.01, (i % 10) * 0.01, 'M' || (i % 7)"
                        + " FROM generate_series(1, 100000) i",
                "ANALYZE li", "ANALYZE ord");
        api.create(StreamTableSpec.parse("q6", "SELECT sum(price * disc) AS revenue, count(*) AS n FROM li"
                + " WHERE disc BETWEEN 0.02 AND 0.06 AND qty < 24", "1h", "DIFFERENTIAL"));
        api.create(StreamTableSpec.parse("q12", "SELECT li.mode, sum(CASE WHEN o.prio IN ('P1', 'P2') THEN 1 ELSE 0 END)"
                + " AS high, count(*) AS n FROM li JOIN ord o ON o.id = li.ord GROUP BY li.mode", "1h", "DIFFERENTIAL"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (engine != null) {
            engine.close();
        }
        if (server != null) {
            server.close();
        }
    }

    /** One logged step: {@code kind} is parse, bind, execute (extended protocol) or statement (simple). */
    record Statement(long pid, double ms, String kind, String sql) {
        boolean executed() {
            return kind.equals("execute") || kind.equals("statement");
        }
    }

    /** Statements executed, BEGIN left out (the driver sends it with the next statement: no round trip). */
    static long statements(List<Statement> statements) {
        return statements.stream().filter(Statement::executed).filter(s -> !s.sql().strip().equals("BEGIN")).count();
    }

    /**
     * Round trips: statements, less those sent together with the one before. The engine joins
     * such statements with ";\n", so each but the first starts with a line break and its first
     * logged line is empty.
     */
    static long roundTrips(List<Statement> statements) {
        return statements.stream().filter(Statement::executed).filter(s -> !s.sql().strip().equals("BEGIN"))
                .filter(s -> !s.sql().isBlank()).count();
    }

    private static int probe;

    /** The statements the server ran while {@code refresh} ran, in log order. */
    private static List<Statement> during(Runnable refresh) throws Exception {
        String tag = "probe_" + (++probe);
        db.execute("SELECT '" + tag + "_start'");
        refresh.run();
        db.execute("SELECT '" + tag + "_end'");
        List<Statement> out = new ArrayList<>();
        for (int attempt = 0; attempt < 50; attempt++) {
            List<String> lines = Files.readAllLines(logs.resolve("pg.log"), StandardCharsets.UTF_8);
            int from = -1;
            int to = -1;
            for (int i = 0; i < lines.size(); i++) {
                if (lines.get(i).contains("'" + tag + "_start'")) {
                    from = i;
                } else if (lines.get(i).contains("'" + tag + "_end'")) {
                    to = i;
                }
            }
            if (from >= 0 && to >= 0) {
                Matcher end = LINE.matcher(lines.get(to));
                long probePid = end.matches() ? Long.parseLong(end.group(1)) : -1;
                for (String line : lines.subList(from + 1, to)) {
                    Matcher m = LINE.matcher(line);
                    // Debezium's heartbeat (every 5 s) is not the refresh's.
                    if (m.matches() && Long.parseLong(m.group(1)) != probePid && !line.contains("heartbeat")) {
                        out.add(new Statement(Long.parseLong(m.group(1)), Double.parseDouble(m.group(2)), m.group(3), m.group(4)));
                    }
                }
                return out;
            }
            Thread.sleep(100);
        }
        throw new IllegalStateException("probe " + tag + " not found in the server log");
    }

    private static void print(String label, List<Statement> statements) {
        if (!Boolean.getBoolean("pgtrickle.statements.print")) {
            return;
        }
        StringBuilder b = new StringBuilder("=== " + label + ": " + statements(statements) + " statements\n");
        for (Statement s : statements) {
            if (!s.executed()) {
                continue;
            }
            String sql = s.sql().replaceAll("\\s+", " ");
            b.append(String.format("%8d %8.3f  %s%n", s.pid(), s.ms(), sql.length() > 160 ? sql.substring(0, 160) + "…" : sql));
        }
        System.out.println(b);
    }

    private static double median(long[] nanos) {
        long[] sorted = nanos.clone();
        java.util.Arrays.sort(sorted);
        return sorted[sorted.length / 2] / 1e6;
    }

    private static long connections(List<Statement> statements) {
        return statements.stream().filter(Statement::executed).map(Statement::pid).distinct().count();
    }

    private static String summary(String label, List<Statement> statements) {
        double server = statements.stream().mapToDouble(Statement::ms).sum();
        long pids = connections(statements);
        return String.format("%-32s %3d statements in %3d round trips on %d connections, %6.2f ms in the server",
                label, statements(statements), roundTrips(statements), pids, server);
    }

    /** Waits until the ingester has buffered {@code rows} rows of {@code table} (WAL capture is asynchronous). */
    private static void awaitBuffered(String table, long rows) throws InterruptedException {
        String buffer = "pgtrickle_changes.changes_" + db.value("SELECT '" + table + "'::regclass::oid::bigint");
        for (int i = 0; i < 300 && ((Number) db.value("SELECT count(*) FROM " + buffer)).longValue() < rows; i++) {
            Thread.sleep(20);
        }
    }

    @Test
    void refreshStatements() throws Exception {
        for (int i = 0; i < 3; i++) {
            api.refresh("q6");
            api.refresh("q12");
        }
        List<String> report = new ArrayList<>();
        List<Statement> idle = during(() -> api.refresh("q6"));
        print("idle, right after another", idle);
        report.add(summary("q6 idle, right after another", idle));
        db.execute("INSERT INTO unrelated VALUES (1)");
        List<Statement> foreign = during(() -> api.refresh("q6"));
        print("idle, after a foreign commit", foreign);
        report.add(summary("q6 idle, after a foreign commit", foreign));
        db.execute("UPDATE li SET qty = qty + 1 WHERE id % 100 = 0"); // 1,000 rows: 2,000 buffer rows
        awaitBuffered("li", 2000);
        List<Statement> q6 = during(() -> api.refresh("q6"));
        print("q6, 1000 rows", q6);
        report.add(summary("q6, 1,000 rows changed", q6));
        List<Statement> q12 = during(() -> api.refresh("q12"));
        print("q12, 1000 rows", q12);
        report.add(summary("q12, 1,000 rows changed", q12));
        assertThat(db.multisetDifference("SELECT sum(price * disc), count(*) FROM li WHERE disc BETWEEN 0.02 AND 0.06"
                + " AND qty < 24", "SELECT revenue, n FROM q6")).isEmpty();
        assertThat(db.multisetDifference("SELECT li.mode, sum(CASE WHEN o.prio IN ('P1', 'P2') THEN 1 ELSE 0 END),"
                + " count(*) FROM li JOIN ord o ON o.id = li.ord GROUP BY li.mode", "SELECT mode, high, n FROM q12"))
                .isEmpty();
        if (Boolean.getBoolean("pgtrickle.statements.measure")) {
            measure(report);
        }
        System.out.println("=== refresh statements\n" + String.join("\n", report));
        Files.writeString(Path.of("target", "refresh-statements.txt"), String.join("\n", report) + "\n");
        // Before issue 11's work: 24, 25, 39 and 42 round trips (the refresh's own connection and a
        // second one for every window, empty or not).
        assertThat(roundTrips(idle)).as("idle, right after another").isLessThanOrEqualTo(6);
        assertThat(connections(idle)).as("idle: no second connection, no COPY").isEqualTo(1);
        assertThat(roundTrips(foreign)).as("idle, after a foreign commit: the barrier's marker too").isLessThanOrEqualTo(7);
        assertThat(roundTrips(q6)).as("q6, 1,000 rows").isLessThanOrEqualTo(21);
        assertThat(roundTrips(q12)).as("q12, 1,000 rows").isLessThanOrEqualTo(21);
    }

    /**
     * A FULL refresh of an aggregate with a maintained state reads its sources once: the state is
     * rebuilt from them and the rows derived from the state (before, the rows were computed from
     * the sources and the state again after them).
     */
    @Test
    void fullRefreshOfAnAggregateReadsItsSourcesOnce() throws Exception {
        api.refresh("q12");
        db.execute("DO $$ DECLARE t text; BEGIN FOR t IN SELECT relname FROM pg_class WHERE relkind = 'r' AND relnamespace ="
                + " 'pgtrickle_state'::regnamespace AND relname LIKE 'agg\\_' || 'q12'::regclass::oid || '\\_%' LOOP"
                + " EXECUTE format('DROP TABLE pgtrickle_state.%I', t); END LOOP; END $$");
        db.execute("UPDATE ord SET prio = 'P1' WHERE id % 1000 = 0");
        List<Statement> full = during(() -> assertThat(api.refresh("q12").action())
                .as("a missing aggregate state makes the refresh FULL").isEqualTo("FULL"));
        print("q12 FULL, state missing", full);
        Pattern readsLi = Pattern.compile("\\bli\\b"); // any mention: "li"."mode", FROM "public"."li"
        assertThat(full.stream().filter(Statement::executed).filter(s -> readsLi.matcher(s.sql()).find()).count())
                .as("statements reading li").isEqualTo(1);
        String q12 = "SELECT li.mode, sum(CASE WHEN o.prio IN ('P1', 'P2') THEN 1 ELSE 0 END), count(*)"
                + " FROM li JOIN ord o ON o.id = li.ord GROUP BY li.mode";
        assertThat(db.multisetDifference(q12, "SELECT mode, high, n FROM q12")).isEmpty();
        db.execute("UPDATE ord SET prio = 'P3' WHERE id % 700 = 0");
        assertThat(api.refresh("q12").action()).as("the rebuilt state serves the next delta").isEqualTo("DIFFERENTIAL");
        assertThat(db.multisetDifference(q12, "SELECT mode, high, n FROM q12")).isEmpty();
    }

    /**
     * With {@code -Dpgtrickle.statements.measure=true}: wall-clock medians (noisy under load) of idle
     * refreshes back to back and after a foreign commit, of the capture barrier alone, and the
     * engine's CPU while idle (with {@code -Dpgtrickle.capture.pollIntervalMs=N} for another interval).
     */
    private static void measure(List<String> report) throws Exception {
        int n = 20;
        long[] backToBack = new long[n];
        long[] afterForeign = new long[n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            api.refresh("q6");
            backToBack[i] = System.nanoTime() - start;
        }
        try (java.sql.Connection c = db.connect(); java.sql.Statement st = c.createStatement()) {
            for (int i = 0; i < n; i++) {
                st.execute("INSERT INTO unrelated VALUES (" + i + ")");
                long start = System.nanoTime();
                api.refresh("q6");
                afterForeign[i] = System.nanoTime() - start;
            }
        }
        report.add(String.format("wall clock, median of %d: idle back to back %.2f ms, idle after a foreign commit %.2f ms",
                n, median(backToBack), median(afterForeign)));
        // The capture barrier alone: a marker emitted and awaited through the WAL stream.
        long[] barrier = new long[n];
        List<io.pgtrickle.core.capture.ChangeSource> li;
        try (java.sql.Connection c = db.connect()) {
            li = engine.capture().sources().of(c, List.of(((Number) db.value("SELECT 'li'::regclass::oid::bigint")).longValue()));
        }
        for (int i = 0; i < n; i++) {
            String lsn = (String) db.value("SELECT pg_current_wal_insert_lsn()::text");
            long start = System.nanoTime();
            engine.capture().awaitBuffered(li, lsn);
            barrier[i] = System.nanoTime() - start;
        }
        var os = (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        Thread.sleep(3000); // JIT and GC settle
        long cpu0 = os.getProcessCpuTime();
        long wall0 = System.nanoTime();
        var threads = java.lang.management.ManagementFactory.getThreadMXBean();
        Map<Long, Long> before = new java.util.HashMap<>();
        for (long id : threads.getAllThreadIds()) {
            before.put(id, threads.getThreadCpuTime(id));
        }
        Thread.sleep(5000);
        for (var info : threads.getThreadInfo(threads.getAllThreadIds())) {
            if (info == null) {
                continue;
            }
            long used = threads.getThreadCpuTime(info.getThreadId()) - before.getOrDefault(info.getThreadId(), 0L);
            if (used > 20_000_000L) {
                report.add(String.format("  idle thread %s: %.1f %% of a core", info.getThreadName(), used / 5e7));
            }
        }
        double idleCpu = (os.getProcessCpuTime() - cpu0) * 100.0 / (System.nanoTime() - wall0);
        report.add(String.format("capture barrier alone, median of %d: %.2f ms; idle JVM CPU %.1f %% of a core"
                + " (poll.interval.ms %s)", n, median(barrier), idleCpu,
                System.getProperty("pgtrickle.capture.pollIntervalMs", "10")));
        report.add("phases of the last: " + db.value("SELECT phase_ms::text FROM pgtrickle.pgt_refresh_history"
                + " ORDER BY refresh_id DESC LIMIT 1"));
    }
}
