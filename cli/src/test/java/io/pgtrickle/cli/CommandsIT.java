package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Every database command through the real command line against a real PostgreSQL 18. */
@ExtendWith(PostgresExtension.class)
class CommandsIT {
    private static final String TOTALS = "SELECT c.name, sum(o.amount) AS total, count(*) AS orders"
            + " FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY c.name";

    private final TestDatabase db;

    CommandsIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void tables() {
        db.execute("DROP TABLE IF EXISTS daily, totals, big_spenders, orders, customers CASCADE",
                "DO $$ BEGIN IF to_regclass('pgtrickle.pgt_stream_tables') IS NOT NULL THEN"
                        + " DELETE FROM pgtrickle.pgt_stream_tables; END IF; END $$",
                "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)",
                "CREATE TABLE orders (id int PRIMARY KEY, customer_id int REFERENCES customers, amount numeric(10,2))",
                "INSERT INTO customers VALUES (1, 'Ada'), (2, 'Bob')",
                "INSERT INTO orders VALUES (1, 1, 10.50), (2, 1, 20.25), (3, 2, 5.00)");
    }

    /** Runs a command against this class's database, with a replication slot of its own (slots are per server). */
    private Cli.Result pgtrickle(String... args) {
        return Cli.runAgainst(db.jdbcUrl(), "pgtrickle_" + db.name(), args);
    }

    @Test
    void createFillsTheTableAndSaysHowItIsMaintained() {
        Cli.Result r = pgtrickle("create", "totals", "--query", TOTALS, "--schedule", "30s");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("created stream table public.totals (2 rows)", "schedule      30s",
                "refresh mode  AUTO -> DIFFERENTIAL");
        assertThat(db.multisetDifference("SELECT name, total, orders FROM totals", TOTALS)).isEmpty();
    }

    @Test
    void statusShowsOneRowPerStreamTable() {
        pgtrickle("create", "totals", "--query", TOTALS, "--schedule", "30s");
        pgtrickle("create", "big_spenders", "--query", "SELECT name FROM totals WHERE total > 20", "--schedule",
                "calculated", "--mode", "FULL");

        Cli.Result r = pgtrickle("status");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        List<String> lines = r.out().lines().takeWhile(l -> !l.isEmpty()).toList();
        assertThat(lines.get(0)).isEqualTo("stream tables");
        assertThat(lines.get(1)).contains("name", "status", "mode", "effective", "schedule", "capture",
                "data timestamp", "staleness", "errors", "last error");
        assertThat(lines).hasSize(5);
        assertThat(lines.get(3)).matches(" public\\.big_spenders +\\| ACTIVE +\\| FULL +\\| FULL +\\| calculated +\\|"
                + " WAL +\\| \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d \\| +[0-9.]+s \\| +0 \\|");
        assertThat(lines.get(4)).matches(" public\\.totals +\\| ACTIVE +\\| AUTO +\\| DIFFERENTIAL +\\| 30s +\\| WAL +\\| .*");
    }

    @Test
    void drainPausesScheduledRefreshesUntilResume() {
        Cli.Result drained = pgtrickle("drain", "--timeout", "5s");
        assertThat(drained.exitCode()).as(drained.toString()).isZero();
        assertThat(drained.out()).contains("drained: no refresh in flight", "paused until `pgtrickle resume`");
        assertThat(db.value("SELECT pgtrickle._refreshes_paused()")).isEqualTo(true);

        Cli.Result resumed = pgtrickle("resume");
        assertThat(resumed.exitCode()).as(resumed.toString()).isZero();
        assertThat(resumed.out()).contains("resumed: scheduled refreshes start again");
        assertThat(db.value("SELECT pgtrickle._refreshes_paused()")).isEqualTo(false);
        assertThat(pgtrickle("resume").out()).contains("refreshes were not paused");
        assertThat(pgtrickle("drain", "--timeout", "soon").exitCode()).isEqualTo(2);
    }

    @Test
    void statusWithoutStreamTablesSaysHowToStart() {
        Cli.Result r = pgtrickle("status");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("stream tables\nno stream tables yet")
                .contains("\nchange buffers\n", "\nreplication slot\n");
    }

    @Test
    void refreshReportsTheRowsItChanged() {
        pgtrickle("create", "totals", "--query", TOTALS);
        db.execute("INSERT INTO orders VALUES (4, 2, 1.00)");

        Cli.Result r = pgtrickle("refresh", "totals");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).matches("refreshed public\\.totals \\(DIFFERENTIAL\\): 1 row inserted, 1 deleted in \\d+ ms\\n");
        assertThat(db.value("SELECT total FROM totals WHERE name = 'Bob'")).isEqualTo(new BigDecimal("6.00"));
    }

    @Test
    void explainRendersModeColumnsSourcesAndRefreshSql() {
        pgtrickle("create", "totals", "--query", TOTALS);

        Cli.Result r = pgtrickle("explain", "totals");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("stream table  public.totals", "refresh mode  AUTO -> DIFFERENTIAL", "columns",
                "  total numeric", "sources", "public.customers (TABLE)", "public.orders (TABLE)", "strategy",
                "full refresh SQL", "delta SQL");
        // One MERGE from 17 on; before, DELETE, UPDATE and INSERT statements (docs/postgres-versions.md).
        assertThat(r.out()).contains(db.server().majorVersion() >= 17 ? "MERGE INTO \"public\".\"totals\""
                : "INSERT INTO \"public\".\"totals\"");
    }

    @Test
    void explainAnalyzeShowsThePlansOfTheNextRefreshAndChangesNothing() {
        pgtrickle("create", "totals", "--query", TOTALS);
        Cli.Result empty = pgtrickle("explain", "totals", "--analyze");
        assertThat(empty.exitCode()).as(empty.toString()).isZero();
        assertThat(empty.out()).contains("no pending changes: nothing to analyze; change a source and retry");
        db.execute("INSERT INTO orders VALUES (4, 2, 1.00)");

        Cli.Result r = pgtrickle("explain", "totals", "--analyze");

        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.out()).contains("explain analyze  public.totals", "refresh          DIFFERENTIAL",
                "pending changes  public.customers: 0, public.orders: 1", "actual time=", "Buffers:", "phases (ms)");
        assertThat(db.value("SELECT total FROM totals WHERE name = 'Bob'")).isEqualTo(new BigDecimal("5.00"));
        assertThat(pgtrickle("refresh", "totals").exitCode()).isZero();
        assertThat(db.value("SELECT total FROM totals WHERE name = 'Bob'")).isEqualTo(new BigDecimal("6.00"));
    }

    @Test
    void alterChangesScheduleStatusAndQuery() {
        pgtrickle("create", "totals", "--query", TOTALS, "--schedule", "30s");

        Cli.Result schedule = pgtrickle("alter", "totals", "--schedule", "5m", "--suspend");
        assertThat(schedule.exitCode()).as(schedule.toString()).isZero();
        assertThat(schedule.out()).contains("altered stream table public.totals", "schedule      5m",
                "status        SUSPENDED");
        assertThat(db.value("SELECT status FROM pgtrickle.pgt_status() WHERE name = 'public.totals'"))
                .isEqualTo("SUSPENDED");

        Cli.Result resume = pgtrickle("alter", "totals", "--resume", "--query",
                "SELECT c.name, count(*) AS orders FROM customers c JOIN orders o ON o.customer_id = c.id GROUP BY 1");
        assertThat(resume.exitCode()).as(resume.toString()).isZero();
        assertThat(resume.out()).contains("status        ACTIVE");
        assertThat(db.rows("SELECT name, orders FROM totals ORDER BY name"))
                .containsExactly(List.of("Ada", 2L), List.of("Bob", 1L));
    }

    @Test
    void dropRemovesTheTableAndCascadesWhenAsked() {
        pgtrickle("create", "totals", "--query", TOTALS);
        pgtrickle("create", "big_spenders", "--query", "SELECT name FROM totals WHERE total > 20");

        Cli.Result refused = pgtrickle("drop", "totals");
        assertThat(refused.exitCode()).isEqualTo(3);
        assertThat(refused.err()).contains("public.big_spenders reads it");

        Cli.Result dropped = pgtrickle("drop", "totals", "--cascade");
        assertThat(dropped.exitCode()).as(dropped.toString()).isZero();
        assertThat(dropped.out()).isEqualTo("dropped stream table public.totals\n"
                + "  and, by --cascade, public.big_spenders\n");
        assertThat(db.value("SELECT to_regclass('totals') IS NULL AND to_regclass('big_spenders') IS NULL"))
                .isEqualTo(true);
    }

    @Test
    void queryCanComeFromAFileOrStdin(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("totals.sql");
        Files.writeString(file, TOTALS + ";\n");
        Cli.Result fromFile = pgtrickle("create", "totals", "--query-file", file.toString());
        assertThat(fromFile.exitCode()).as(fromFile.toString()).isZero();

        InputStream stdin = System.in;
        try {
            System.setIn(new ByteArrayInputStream("SELECT name FROM customers\n".getBytes(StandardCharsets.UTF_8)));
            Cli.Result fromStdin = pgtrickle("create", "daily", "--query", "-");
            assertThat(fromStdin.exitCode()).as(fromStdin.toString()).isZero();
        } finally {
            System.setIn(stdin);
        }
        assertThat(db.rows("SELECT name FROM daily ORDER BY name")).containsExactly(List.of("Ada"), List.of("Bob"));
    }

    @Test
    void badInputExitsWithThreeAndNamesTheProblem() {
        Cli.Result schedule = pgtrickle("create", "totals", "--query", TOTALS, "--schedule", "every minute");
        assertThat(schedule.exitCode()).isEqualTo(3);
        assertThat(schedule.err()).startsWith("error: invalid schedule \"every minute\"");

        Cli.Result unknownTable = pgtrickle("create", "totals", "--query", "SELECT * FROM no_such_table");
        assertThat(unknownTable.exitCode()).isEqualTo(3);
        assertThat(unknownTable.err()).startsWith("error: cannot create stream table public.totals")
                .contains("relation \"no_such_table\" does not exist");

        Cli.Result differential = pgtrickle("create", "totals", "--query", "SELECT c.name, o.amount, random() AS r"
                + " FROM customers c JOIN orders o ON o.customer_id = c.id", "--mode", "DIFFERENTIAL");
        assertThat(differential.exitCode()).isEqualTo(3);
        assertThat(differential.err()).contains("cannot be maintained differentially");

        pgtrickle("create", "totals", "--query", TOTALS);
        Cli.Result taken = pgtrickle("create", "totals", "--query", TOTALS);
        assertThat(taken.exitCode()).isEqualTo(3);
        assertThat(taken.err()).contains("already exists");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(1L);
    }

    @Test
    void aFailingRefreshExitsWithSixAndShowsInStatus() {
        db.execute("CREATE TABLE daily (d int)", "INSERT INTO daily VALUES (1)");
        assertThat(pgtrickle("create", "totals", "--query", "SELECT 10 / d AS ratio FROM daily").exitCode()).isZero();
        db.execute("UPDATE daily SET d = 0");

        Cli.Result r = pgtrickle("refresh", "totals");

        assertThat(r.exitCode()).isEqualTo(6);
        assertThat(r.err()).startsWith("error: refresh of public.totals failed: division by zero");
        assertThat(pgtrickle("status").out()).containsPattern("public\\.totals +\\| ERROR .*\\| +1 \\| .*division by zero");
    }

    @Test
    void unknownStreamTablesExitWithFour() {
        for (String command : new String[] {"drop", "refresh", "explain"}) {
            Cli.Result r = pgtrickle(command, "no_such_st");
            assertThat(r.exitCode()).as(command + ": " + r).isEqualTo(4);
            assertThat(r.err()).as(command).contains("stream table public.no_such_st does not exist");
        }
        Cli.Result alter = pgtrickle("alter", "no_such_st", "--schedule", "5m");
        assertThat(alter.exitCode()).isEqualTo(4);
    }
}
