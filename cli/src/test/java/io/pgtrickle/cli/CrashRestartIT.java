package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.embedded.EmbeddedPostgresServer;
import io.pgtrickle.embedded.OrphanedPostmaster;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code pgtrickle run} killed with SIGKILL twice at random points under a steady write load, and
 * started again on the same data directory each time: the restart succeeds (the dead run's file
 * is stale, its orphaned PostgreSQL is stopped and restarted, by {@code status} after the first
 * kill and by {@code run} itself after the second), and every stream table catches up
 * with no change lost or doubled. The same with {@code run --jdbc-url} against a server of this
 * JVM, which stands for an engine embedded in another application.
 *
 * <p>The kill points come from a seed, printed and settable with {@code -Dpgtrickle.seed}; the
 * number of kills is {@code -Dpgtrickle.kills} (default 2).
 */
class CrashRestartIT {
    private static final int WRITERS = 8;
    /** Two in CI; {@code -Dpgtrickle.kills=N} for a longer soak (the kill points alternate). */
    private static final int KILLS = Integer.getInteger("pgtrickle.kills", 2);
    private static final Duration ENGINE_START_TIMEOUT = Duration.ofSeconds(90);

    /** The stream tables: name, user columns, defining query, schedule. */
    record StreamTable(String name, String columns, String query, String schedule) {
    }

    private static final List<StreamTable> STREAM_TABLES = List.of(
            new StreamTable("acct_totals", "grp, n, total",
                    "SELECT grp, count(*) AS n, sum(amount) AS total FROM accounts GROUP BY grp", "200ms"),
            new StreamTable("acct_named", "id, amount, name",
                    "SELECT a.id, a.amount, g.name FROM accounts a JOIN groups g ON a.grp = g.grp", "300ms"),
            new StreamTable("event_rows", "grp, v", "SELECT grp, v FROM events", "400ms"),
            new StreamTable("event_sums", "grp, s",
                    "SELECT grp, sum(v) AS s FROM events GROUP BY grp", "250ms"),
            new StreamTable("audit_log", "writer, txn", "SELECT writer, txn FROM audit", "500ms"));

    /**
     * What the engine should be doing when it is killed: the first kill waits for a refresh's
     * MERGE, the second for a change batch being written to a buffer (both seen in
     * pg_stat_activity a moment before the kill, so the kill lands in or just after them).
     */
    private static final List<String> KILL_TARGETS = List.of("%MERGE INTO%", "%INSERT INTO pgtrickle_changes.%");

    @TempDir
    Path work;

    /** The children's output, kept after the build for a look at what happened. */
    private final Path logs = logDirectory();

    private static Path logDirectory() {
        try {
            return Files.createDirectories(Path.of("target", "crash-restart-logs"));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void anEmbeddedRunKilledTwiceRestartsOnItsDataDirectoryAndEveryStreamTableCatchesUpExactly() throws Exception {
        long seed = seed();
        Random random = new Random(seed);
        Path dataDir = work.resolve("pgdata");
        int port = freePort();
        String url = "jdbc:postgresql://localhost:" + port + "/postgres?user=postgres";
        List<String> runArgs = List.of("run", "--data-dir", dataDir.toString(), "--port", Integer.toString(port));
        ChildRun child = null;
        Writers writers = null;
        try {
            child = ChildRun.start(runArgs, logs.resolve("embedded-0.log"));
            createSchema(url);
            createStreamTables(url);
            writers = Writers.start(url, seed);
            for (int kill = 1; kill <= KILLS; kill++) {
                Thread.sleep(2_000 + random.nextInt(4_000));
                writers.awaitProgress();
                awaitEngineBusy(url, KILL_TARGETS.get((kill - 1) % KILL_TARGETS.size()));
                long orphan = postmasterPid(dataDir);
                long killed = child.pid();
                child.killHard();
                // The postmaster was not in the killed JVM: it keeps serving the writers meanwhile.
                Thread.sleep(random.nextInt(1_500));
                assertThat(ProcessHandle.of(orphan).map(ProcessHandle::isAlive)).as("orphaned postmaster").contains(true);

                String handled = "'pgtrickle run' (pid " + killed + ") no longer serves " + dataDir.toAbsolutePath();
                String stopped = "stopping the orphaned PostgreSQL 18 (pid " + orphan + ")";
                if (kill == 1) {
                    // A one-shot command finds the dead run first: it stops the orphan and starts a
                    // server for itself (writers write to it meanwhile, with no engine running).
                    Cli.Result status = Cli.run("status", "--data-dir", dataDir.toString(), "--port",
                            Integer.toString(port));
                    assertThat(status.exitCode()).as(status.toString()).isZero();
                    assertThat(status.err()).as(status.toString()).contains(handled, "that process is gone", stopped,
                            "stopped in");
                    assertThat(status.out()).contains("public.audit_log");
                    child = ChildRun.start(runArgs, logs.resolve("embedded-" + kill + ".log"));
                    assertThat(child.output()).doesNotContain("no longer serves", "stopping the orphaned");
                } else {
                    child = ChildRun.start(runArgs, logs.resolve("embedded-" + kill + ".log"));
                    assertThat(child.output()).contains(handled, "that process is gone", stopped, "stopped in");
                }
            }
            Thread.sleep(2_000 + random.nextInt(2_000));
            writers.stop();
            assertCaughtUpExactly(url, writers, seed);
            assertThat(child.output()).as("the last run's output").doesNotContain("ERROR");
        } finally {
            if (writers != null) {
                writers.stop();
            }
            if (child != null) {
                child.stopGracefully();
            }
            OrphanedPostmaster.find(dataDir).ifPresent(o -> o.stopFast(Duration.ofSeconds(60)));
        }
    }

    @Test
    void anEngineOnAnExternalServerKilledTwiceRestartsAndEveryStreamTableCatchesUpExactly() throws Exception {
        long seed = seed() + 1;
        Random random = new Random(seed);
        try (EmbeddedPostgresServer server = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.ephemeral())) {
            String url = server.jdbcUrl("postgres");
            List<String> runArgs = List.of("run", "--jdbc-url", url);
            createSchema(url);
            ChildRun child = null;
            Writers writers = null;
            try {
                child = ChildRun.start(runArgs, logs.resolve("external-0.log"));
                createStreamTables(url);
                writers = Writers.start(url, seed);
                for (int kill = 1; kill <= KILLS; kill++) {
                    Thread.sleep(2_000 + random.nextInt(4_000));
                    writers.awaitProgress();
                    awaitEngineBusy(url, KILL_TARGETS.get((kill - 1) % KILL_TARGETS.size()));
                    child.killHard();
                    Thread.sleep(random.nextInt(1_500));
                    child = ChildRun.start(runArgs, logs.resolve("external-" + kill + ".log"));
                }
                Thread.sleep(2_000 + random.nextInt(2_000));
                writers.stop();
                assertCaughtUpExactly(url, writers, seed);
            } finally {
                if (writers != null) {
                    writers.stop();
                }
                if (child != null) {
                    child.stopGracefully();
                }
            }
        }
    }

    private static long seed() {
        long seed = Long.getLong("pgtrickle.seed", System.nanoTime());
        System.out.println("CrashRestartIT seed: " + seed + " (rerun with -Dpgtrickle.seed=" + seed + ")");
        return seed;
    }

    /** Source tables, then the stream tables through the SQL functions the running engine serves. */
    private static void createSchema(String url) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS groups (grp int PRIMARY KEY, name text NOT NULL)");
            s.execute("INSERT INTO groups SELECT g, 'group ' || g FROM generate_series(0, 9) g ON CONFLICT DO NOTHING");
            s.execute("CREATE SEQUENCE IF NOT EXISTS account_ids");
            s.execute("CREATE TABLE IF NOT EXISTS accounts (id bigint PRIMARY KEY, writer int NOT NULL, grp int NOT NULL,"
                    + " amount int NOT NULL)");
            s.execute("CREATE INDEX IF NOT EXISTS accounts_writer ON accounts (writer)");
            // No key: the keyless stream tables identify rows by their content.
            s.execute("CREATE TABLE IF NOT EXISTS events (grp int NOT NULL, v int NOT NULL)");
            // No key either, so a change applied twice shows as a doubled row rather than hiding
            // behind a key.
            s.execute("CREATE TABLE IF NOT EXISTS audit (writer int NOT NULL, txn int NOT NULL)");
        }
    }

    private static void createStreamTables(String url) throws SQLException {
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            for (StreamTable st : STREAM_TABLES) {
                try (ResultSet rs = s.executeQuery("SELECT pgtrickle.create_stream_table('" + st.name() + "', $q$"
                        + st.query() + "$q$, '" + st.schedule() + "')")) {
                    rs.next();
                    s.execute("SELECT pgtrickle.await_request(" + rs.getLong(1) + ", '60 seconds')");
                }
            }
        }
    }

    /**
     * After the writers stopped: a refresh of every stream table (it waits until capture has
     * passed the last write), then each must equal a fresh run of its query, and the audit stream
     * table must hold every committed writer transaction exactly once.
     */
    private static void assertCaughtUpExactly(String url, Writers writers, long seed) throws SQLException {
        long started = System.nanoTime();
        try (Connection c = DriverManager.getConnection(url); Statement s = c.createStatement()) {
            for (StreamTable st : STREAM_TABLES) {
                try (ResultSet rs = s.executeQuery("SELECT pgtrickle.refresh_stream_table('" + st.name() + "')")) {
                    rs.next();
                    s.execute("SELECT pgtrickle.await_request(" + rs.getLong(1) + ", '90 seconds')");
                }
            }
            System.out.println("CrashRestartIT: every stream table refreshed past the last write after "
                    + Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms");
            long committed = count(s, "SELECT count(*) FROM audit");
            assertThat(committed).as("committed writer transactions").isGreaterThan(50);
            System.out.println("CrashRestartIT: " + committed + " committed writer transactions, " + writers.failed()
                    + " failed ones (seed " + seed + ")");
            for (StreamTable st : STREAM_TABLES) {
                String stored = "SELECT " + st.columns() + " FROM " + st.name();
                String fresh = "SELECT " + st.columns() + " FROM (" + st.query() + ") q";
                long extra = count(s, "SELECT count(*) FROM (" + stored + " EXCEPT ALL " + fresh + ") d");
                long missing = count(s, "SELECT count(*) FROM (" + fresh + " EXCEPT ALL " + stored + ") d");
                assertThat(extra + missing).as(st.name() + " differs from its query (seed " + seed + "): " + extra
                        + " rows too many, " + missing + " rows missing").isZero();
            }
            String missing = list(s, "SELECT writer || ':' || txn FROM (SELECT writer, txn FROM audit"
                    + " EXCEPT ALL SELECT writer, txn FROM audit_log) d ORDER BY 1 LIMIT 20");
            String doubled = list(s, "SELECT writer || ':' || txn FROM (SELECT writer, txn FROM audit_log"
                    + " EXCEPT ALL SELECT writer, txn FROM audit) d ORDER BY 1 LIMIT 20");
            assertThat(missing + doubled).as("committed transactions (writer:txn) missing from audit_log: [" + missing
                    + "], doubled or never committed: [" + doubled + "] (seed " + seed + ")").isEmpty();
        }
    }

    /** Waits (up to 10 s) until an engine session runs a statement like {@code pattern}. */
    private static void awaitEngineBusy(String url, String pattern) throws SQLException, InterruptedException {
        long started = System.nanoTime();
        long deadline = started + TimeUnit.SECONDS.toNanos(10);
        try (Connection c = DriverManager.getConnection(url);
             java.sql.PreparedStatement ps = c.prepareStatement("SELECT EXISTS (SELECT FROM pg_stat_activity"
                     + " WHERE application_name = 'pgtrickle' AND state = 'active' AND query LIKE ?)")) {
            ps.setString(1, pattern);
            while (System.nanoTime() < deadline) {
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        System.out.println("CrashRestartIT: killing while the engine runs " + pattern + " (seen after "
                                + Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms)");
                        return;
                    }
                }
                Thread.sleep(2);
            }
        }
        System.out.println("CrashRestartIT: killing at a random point (no " + pattern + " seen within 10 s)");
    }

    private static long count(Statement s, String sql) throws SQLException {
        try (ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String list(Statement s, String sql) throws SQLException {
        List<String> values = new ArrayList<>();
        try (ResultSet rs = s.executeQuery(sql)) {
            while (rs.next()) {
                values.add(rs.getString(1));
            }
        }
        return String.join(", ", values);
    }

    private static long postmasterPid(Path dataDir) throws IOException {
        return Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).get(0).trim());
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** The real CLI in a child JVM (this JVM's classpath, {@link Main}), its output in a file. */
    static final class ChildRun {
        private final Process process;
        private final Path log;

        private ChildRun(Process process, Path log) {
            this.process = process;
            this.log = log;
        }

        static ChildRun start(List<String> args, Path log) throws Exception {
            List<String> command = new ArrayList<>(List.of(
                    Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                    "-cp", System.getProperty("java.class.path"), Main.class.getName()));
            command.addAll(args);
            long started = System.nanoTime();
            Process process = new ProcessBuilder(command).redirectErrorStream(true)
                    .redirectOutput(log.toFile()).start();
            ChildRun child = new ChildRun(process, log);
            child.awaitEngineRunning();
            System.out.println("CrashRestartIT: " + String.join(" ", args) + " (pid " + process.pid() + ") running after "
                    + Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms; output in " + log);
            return child;
        }

        private void awaitEngineRunning() throws Exception {
            long deadline = System.nanoTime() + ENGINE_START_TIMEOUT.toNanos();
            while (!output().contains("pg_trickle engine running")) {
                if (!process.isAlive()) {
                    throw new AssertionError("'pgtrickle run' ended with exit code " + process.exitValue()
                            + " before its engine ran:\n" + output());
                }
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("'pgtrickle run' did not start its engine within "
                            + ENGINE_START_TIMEOUT.toSeconds() + " s:\n" + output());
                }
                Thread.sleep(100);
            }
        }

        long pid() {
            return process.pid();
        }

        String output() {
            try {
                return Files.readString(log, StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "(cannot read " + log + ": " + e.getMessage() + ")";
            }
        }

        /** SIGKILL: Process.destroyForcibly() is kill(pid, SIGKILL) on Unix; exit code 128 + 9 proves it. */
        void killHard() throws InterruptedException {
            process.destroyForcibly();
            assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("killed child exited").isTrue();
            assertThat(process.exitValue()).as("exit code of a SIGKILL").isEqualTo(137);
        }

        /** SIGTERM: a clean stop of engine and server, so nothing is left running. */
        void stopGracefully() throws InterruptedException {
            process.destroy();
            if (!process.waitFor(60, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            }
        }
    }

    /**
     * Eight writers, each in its own rows, doing multi-row INSERT, UPDATE (also of primary keys)
     * and DELETE transactions; each transaction also inserts (writer, txn) into the audit table, so
     * what committed is known exactly, whatever a connection error hid from the writer. After an
     * error a writer reconnects and goes on with the next transaction number.
     */
    static final class Writers {
        private final String url;
        private final long seed;
        private final AtomicBoolean stopping = new AtomicBoolean();
        private final AtomicLong committed = new AtomicLong();
        private final AtomicLong failed = new AtomicLong();
        private final List<Thread> threads = new ArrayList<>();

        private Writers(String url, long seed) {
            this.url = url;
            this.seed = seed;
        }

        static Writers start(String url, long seed) {
            Writers w = new Writers(url, seed);
            for (int i = 0; i < WRITERS; i++) {
                int writer = i;
                Thread t = new Thread(() -> w.write(writer), "writer-" + writer);
                t.setDaemon(true);
                w.threads.add(t);
                t.start();
            }
            return w;
        }

        long failed() {
            return failed.get();
        }

        /** Waits until some transactions committed since the last call, so every phase writes. */
        void awaitProgress() throws InterruptedException {
            long before = committed.get();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (committed.get() < before + 10 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
        }

        void stop() throws InterruptedException {
            stopping.set(true);
            for (Thread t : threads) {
                t.join(30_000);
            }
        }

        private void write(int writer) {
            Random random = new Random(seed * 31 + writer);
            Connection c = null;
            for (int txn = 1; !stopping.get(); txn++) {
                try {
                    if (c == null) {
                        c = DriverManager.getConnection(url);
                        c.setAutoCommit(false);
                    }
                    try (Statement s = c.createStatement()) {
                        transaction(s, writer, txn, random);
                    }
                    c.commit();
                    committed.incrementAndGet();
                    Thread.sleep(40 + random.nextInt(80));
                } catch (SQLException e) {
                    failed.incrementAndGet();
                    close(c);
                    c = null;
                    pause(200);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    break;
                }
            }
            close(c);
        }

        private static void transaction(Statement s, int writer, int txn, Random random) throws SQLException {
            String mine = "SELECT id FROM accounts WHERE writer = " + writer + " ORDER BY random() LIMIT ";
            s.execute("INSERT INTO accounts SELECT nextval('account_ids'), " + writer + ", (random() * 9)::int,"
                    + " (random() * 100)::int FROM generate_series(1, " + (1 + random.nextInt(4)) + ")");
            switch (random.nextInt(4)) {
                case 0 -> s.execute("UPDATE accounts SET amount = amount + 1, grp = (grp + 1) % 10 WHERE id IN ("
                        + mine + (1 + random.nextInt(3)) + ")");
                case 1 -> s.execute("UPDATE accounts SET id = nextval('account_ids') WHERE id IN (" + mine + "2)");
                case 2 -> s.execute("DELETE FROM accounts WHERE id IN (" + mine + (1 + random.nextInt(3)) + ")");
                default -> s.execute("UPDATE groups SET name = 'group ' || grp || ' (" + writer + ":" + txn + ")'"
                        + " WHERE grp = " + writer);
            }
            // Duplicate rows on purpose: the keyless stream tables count them.
            s.execute("INSERT INTO events SELECT " + writer + ", (random() * 3)::int FROM generate_series(1, "
                    + (1 + random.nextInt(3)) + ")");
            if (random.nextBoolean()) {
                s.execute("DELETE FROM events WHERE ctid IN (SELECT ctid FROM events WHERE grp = " + writer
                        + " LIMIT " + (1 + random.nextInt(3)) + ")");
            }
            if (random.nextInt(5) == 0) {
                s.execute("UPDATE events SET v = v + 1 WHERE ctid IN (SELECT ctid FROM events WHERE grp = " + writer
                        + " LIMIT 2)");
            }
            s.execute("INSERT INTO audit VALUES (" + writer + ", " + txn + ")");
        }

        private static void close(Connection c) {
            if (c != null) {
                try {
                    c.close();
                } catch (SQLException ignored) {
                    // a broken connection
                }
            }
        }

        private static void pause(long millis) {
            try {
                Thread.sleep(millis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
