package io.pgtrickle.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.catalog.Status;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.net.ServerSocket;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Every kind of bad input is a clear error naming the problem, and leaves the catalog and the
 * other stream tables untouched.
 */
@ExtendWith(PostgresExtension.class)
class BadInputIT {
    private static PgTrickleEngine engine;
    private static StreamTables api;
    private final TestDatabase db;

    BadInputIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void open(TestDatabase db) {
        engine = EngineFixture.open(db);
        api = engine.streamTables();
    }

    @AfterAll
    static void close() {
        engine.close();
    }

    @BeforeEach
    void schema() {
        EngineFixture.dropAllStreamTables(api);
        db.execute("DROP TABLE IF EXISTS items, plain CASCADE",
                "CREATE TABLE items (id int PRIMARY KEY, kind text, price int)",
                "INSERT INTO items VALUES (1, 'a', 10), (2, 'b', 20), (3, 'a', 30)",
                "CREATE TABLE plain (x int)");
        api.create(StreamTableSpec.of("bystander", "SELECT kind, sum(price) AS total FROM items GROUP BY kind"));
        api.create(StreamTableSpec.of("bystander_reader", "SELECT count(*) AS kinds FROM bystander"));
    }

    private String catalogFingerprint() {
        return String.valueOf(db.value("SELECT coalesce(string_agg(format('%s|%s|%s|%s|%s|%s', pgt_name, defining_query,"
                + " schedule, refresh_mode, status, pgt_relid), ';' ORDER BY pgt_id), '') || '#' || "
                + "(SELECT coalesce(string_agg(pgt_id || ':' || source_name, ',' ORDER BY 1), '') FROM pgtrickle.pgt_dependencies) "
                + "FROM pgtrickle.pgt_stream_tables"));
    }

    private void assertRejected(ErrorCode code, String messagePart, ThrowingCallable call) {
        String before = catalogFingerprint();
        Object relations = db.value("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace");

        assertThatThrownBy(call)
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(code))
                .hasMessageContaining(messagePart);

        assertThat(catalogFingerprint()).isEqualTo(before);
        assertThat(db.value("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace")).isEqualTo(relations);
        // The others keep working.
        db.execute("UPDATE items SET price = price + 1 WHERE id = 1");
        api.refresh("bystander");
        assertThat(db.multisetDifference("SELECT kind, total FROM bystander",
                "SELECT kind, sum(price) FROM items GROUP BY kind")).isEmpty();
    }

    @Test
    void syntaxErrorNamesTheOffendingToken() {
        assertRejected(ErrorCode.INVALID_QUERY, "syntax error at or near \"FROM\"",
                () -> api.create(StreamTableSpec.of("bad", "SELECT id, FROM items")));
    }

    @Test
    void unknownTableIsNamed() {
        assertRejected(ErrorCode.INVALID_QUERY, "relation \"no_such_table\" does not exist",
                () -> api.create(StreamTableSpec.of("bad", "SELECT * FROM no_such_table")));
    }

    @Test
    void unknownColumnIsNamed() {
        assertRejected(ErrorCode.INVALID_QUERY, "column \"colour\" does not exist",
                () -> api.create(StreamTableSpec.of("bad", "SELECT colour FROM items")));
    }

    @Test
    void nameOfAnExistingStreamTableIsTaken() {
        assertRejected(ErrorCode.NAME_TAKEN, "stream table public.bystander already exists",
                () -> api.create(StreamTableSpec.of("bystander", "SELECT 1 AS one")));
    }

    @Test
    void nameOfAPlainTableIsTaken() {
        assertRejected(ErrorCode.NAME_TAKEN, "relation public.plain already exists and is not a stream table",
                () -> api.create(StreamTableSpec.of("plain", "SELECT 1 AS one")));
    }

    @Test
    void missingSchemaIsNamed() {
        assertRejected(ErrorCode.INVALID_NAME, "schema nowhere does not exist",
                () -> api.create(StreamTableSpec.of("nowhere.st", "SELECT 1 AS one")));
    }

    @Test
    void invalidScheduleIsNamed() {
        assertRejected(ErrorCode.INVALID_SCHEDULE, "invalid schedule \"every minute\"",
                () -> api.create(StreamTableSpec.of("bad", "SELECT 1 AS one").withSchedule("every minute")));
        assertRejected(ErrorCode.INVALID_SCHEDULE, "invalid schedule \"5x\"",
                () -> api.alter("bystander", AlterSpec.none().withSchedule("5x")));
    }

    @Test
    void invalidRefreshModeIsNamed() {
        assertRejected(ErrorCode.INVALID_REFRESH_MODE, "invalid refresh mode \"FAST\"",
                () -> api.create(StreamTableSpec.parse("bad", "SELECT 1 AS one", "1m", "FAST")));
        assertRejected(ErrorCode.INVALID_REFRESH_MODE, "use AUTO, FULL, DIFFERENTIAL or IMMEDIATE",
                () -> api.create(StreamTableSpec.parse("bad", "SELECT 1 AS one", "1m", "SOON")));
    }

    @Test
    void immediateModeForAQueryWithoutADeltaRuleSaysWhy() {
        assertRejected(ErrorCode.UNSUPPORTED_QUERY, "cannot be maintained in IMMEDIATE mode (its triggers apply the"
                        + " differential delta rules): a query over a recursive CTE other than SELECT <all its columns>",
                () -> api.create(StreamTableSpec.parse("bad", "WITH RECURSIVE r AS (SELECT id FROM items UNION ALL"
                        + " SELECT i.id FROM items i JOIN r ON i.id = r.id + 1) SELECT id FROM r WHERE id > 1",
                        "1m", "IMMEDIATE")));
    }

    @Test
    void differentialModeForAQueryThatCannotHaveItSaysWhy() {
        assertRejected(ErrorCode.UNSUPPORTED_QUERY, "cannot be maintained differentially: a query over a recursive CTE"
                        + " other than SELECT <all its columns> FROM it has no delta rule yet (make the CTE its own stream table",
                () -> api.create(StreamTableSpec.parse("bad", "WITH RECURSIVE r AS (SELECT id FROM items UNION ALL"
                        + " SELECT i.id FROM items i JOIN r ON i.id = r.id + 1) SELECT id FROM r WHERE id > 1",
                        "1m", "DIFFERENTIAL")));
    }

    @Test
    void aSecondStatementSmuggledIntoTheQueryIsRejectedAndNeverRuns() {
        assertRejected(ErrorCode.INVALID_QUERY, "single SELECT statement",
                () -> api.create(StreamTableSpec.of("bad", "SELECT 1 AS x) q; DROP TABLE plain; SELECT * FROM (SELECT 1")));
        assertThat(db.value("SELECT to_regclass('plain') IS NOT NULL")).isEqualTo(true);
    }

    @Test
    void aDataModifyingQueryIsRejectedAndNeverRuns() {
        assertRejected(ErrorCode.INVALID_QUERY, "data-modifying statement",
                () -> api.create(StreamTableSpec.of("bad", "WITH gone AS (DELETE FROM items RETURNING *) SELECT * FROM gone")));
        assertRejected(ErrorCode.INVALID_QUERY, "syntax error",
                () -> api.create(StreamTableSpec.of("bad", "DELETE FROM items RETURNING *")));
        assertThat(db.value("SELECT count(*) FROM items")).isEqualTo(3L);
    }

    @Test
    void reservedAndRepeatedColumnNamesAskForAnAlias() {
        // An output without a name is named as PostgreSQL names it ("?column?"), see SqlConstructsIT.
        assertRejected(ErrorCode.INVALID_QUERY, "output columns 2 and 3 are both named \"?column?\"",
                () -> api.create(StreamTableSpec.of("bad", "SELECT id, price * 2, price * 3 FROM items")));
        assertRejected(ErrorCode.INVALID_QUERY, "reserved prefix __pgt_",
                () -> api.create(StreamTableSpec.of("bad", "SELECT id AS __pgt_row_id FROM items")));
        assertRejected(ErrorCode.INVALID_QUERY, "output columns 1 and 2 are both named \"id\"",
                () -> api.create(StreamTableSpec.of("bad", "SELECT id, id FROM items")));
    }

    @Test
    void droppingAStreamTableThatOthersReadIsRefused() {
        assertRejected(ErrorCode.HAS_DEPENDANTS, "public.bystander_reader reads it",
                () -> api.drop("bystander"));
    }

    @Test
    void unknownStreamTablesAreNotFound() {
        assertRejected(ErrorCode.NOT_FOUND, "stream table public.ghost does not exist", () -> api.drop("ghost"));
        assertRejected(ErrorCode.NOT_FOUND, "stream table public.ghost does not exist", () -> api.refresh("ghost"));
        assertRejected(ErrorCode.NOT_FOUND, "stream table public.ghost does not exist",
                () -> api.alter("ghost", AlterSpec.none().withSchedule("5m")));
    }

    @Test
    void alteringIntoACycleIsRefused() {
        assertRejected(ErrorCode.DEPENDENCY_CYCLE, "would read public.bystander itself",
                () -> api.alter("bystander", AlterSpec.none().withQuery(
                        "SELECT kind, sum(price) AS total FROM items WHERE price > (SELECT kinds FROM bystander_reader) GROUP BY kind")));
    }

    @Test
    void alteringAQuerySoThatAReaderBreaksIsRefused() {
        api.alter("bystander_reader", AlterSpec.none().withQuery("SELECT count(*) AS kinds, sum(total) AS grand FROM bystander"));
        assertRejected(ErrorCode.HAS_DEPENDANTS, "would break stream table public.bystander_reader",
                () -> api.alter("bystander", AlterSpec.none().withQuery("SELECT kind FROM items GROUP BY kind")));
    }

    @Test
    void aFailedAlterLeavesTheStreamTableAsItWas() {
        assertRejected(ErrorCode.INVALID_QUERY, "relation \"nope\" does not exist",
                () -> api.alter("bystander", AlterSpec.none().withSchedule("5m").withQuery("SELECT * FROM nope")));
        assertThat(api.require(QualifiedName.parse("bystander")).schedule().text()).isEqualTo("1m");
    }

    @Test
    void aRefreshThatFailsRecordsTheErrorAndLeavesOthersRunning() {
        db.execute("CREATE TABLE fragile (v int)", "INSERT INTO fragile VALUES (1)");
        api.create(StreamTableSpec.of("fragile_st", "SELECT v FROM fragile"));
        db.execute("DROP TABLE fragile");

        assertThatThrownBy(() -> api.refresh("fragile_st"))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.REFRESH_FAILED))
                .hasMessageContaining("relation \"fragile\" does not exist");

        StreamTableRecord st = api.require(QualifiedName.parse("fragile_st"));
        assertThat(st.status()).isEqualTo(Status.ERROR);
        assertThat(st.lastError()).contains("relation \"fragile\" does not exist");
        assertThat(db.rows("SELECT status, error IS NOT NULL FROM pgtrickle.pgt_refresh_history h "
                + "WHERE pgt_name = 'fragile_st' ORDER BY refresh_id DESC LIMIT 1"))
                .containsExactly(java.util.List.of("FAILED", true));
        assertThat(db.value("SELECT count(*) FROM fragile_st")).isEqualTo(1L);
        api.refresh("bystander");
    }

    @Test
    void anUnreachableServerIsAConnectionError() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0)) {
            closedPort = s.getLocalPort();
        }
        String url = "jdbc:postgresql://127.0.0.1:" + closedPort + "/postgres?user=postgres&password=s3cret";
        assertThatThrownBy(() -> PgTrickleEngine.open(EngineConfig.of(url)))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.CONNECTION_FAILED))
                .hasMessageContaining("cannot connect to jdbc:postgresql://127.0.0.1:" + closedPort)
                .hasMessageNotContaining("s3cret");
    }
}
