package io.pgtrickle.core.inbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.util.PSQLException;
import org.postgresql.util.ServerErrorMessage;

/** The inbox SQL functions, with a running engine carrying out their requests. */
@ExtendWith(PostgresExtension.class)
class InboxSqlIT {
    private static PgTrickleEngine engine;
    private final TestDatabase db;

    InboxSqlIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeAll
    static void start(TestDatabase db) {
        engine = EngineFixture.open(db).start();
    }

    @AfterAll
    static void stop() {
        engine.close();
    }

    @BeforeEach
    void clean() {
        EngineFixture.dropAllStreamTables(engine.streamTables());
        for (String name : engine.inboxes().list()) {
            engine.inboxes().drop(name, true);
        }
        db.execute("DROP SCHEMA IF EXISTS events CASCADE", "CREATE SCHEMA events",
                "DROP TABLE IF EXISTS public.taken CASCADE", "TRUNCATE pgtrickle.pgt_requests RESTART IDENTITY");
    }

    /** Runs {@code sql} (returning a request id), then waits for the engine to carry it out. */
    private void request(String sql, Object... parameters) {
        Object id = db.value(sql, parameters);
        db.value("SELECT pgtrickle.await_request(?, '30 seconds')", id);
    }

    @Test
    void createInboxMakesTheTableAndDifferentialStreamTablesOverIt() {
        request("SELECT pgtrickle.create_inbox('orders_inbox')");

        assertThat(db.rows("SELECT attname, format_type(atttypid, atttypmod), attnotnull FROM pg_attribute"
                + " WHERE attrelid = 'pgtrickle.orders_inbox'::regclass AND attnum > 0 ORDER BY attnum")).containsExactly(
                List.of("event_id", "text", true), List.of("event_type", "text", false), List.of("source", "text", false),
                List.of("aggregate_id", "text", false), List.of("payload", "jsonb", false),
                List.of("headers", "jsonb", false), List.of("received_at", "timestamp with time zone", true),
                List.of("processed_at", "timestamp with time zone", false), List.of("retry_count", "integer", true),
                List.of("last_error", "text", false));
        assertThat(db.rows("SELECT name, status, refresh_mode, effective_mode, schedule FROM pgtrickle.pgt_status()"))
                .containsExactly(List.of("pgtrickle.orders_inbox_dlq", "ACTIVE", "DIFFERENTIAL", "DIFFERENTIAL", "1s"),
                        List.of("pgtrickle.orders_inbox_pending", "ACTIVE", "DIFFERENTIAL", "DIFFERENTIAL", "1s"),
                        List.of("pgtrickle.orders_inbox_stats", "ACTIVE", "DIFFERENTIAL", "DIFFERENTIAL", "1s"));
        assertThat(db.rows("SELECT inbox, table_name, state, max_retries, with_dead_letter, with_stats, retention_hours,"
                + " total, array_length(stream_tables, 1), cardinality(missing_stream_tables)"
                + " FROM pgtrickle.inbox_status('orders_inbox')")).containsExactly(List.of("orders_inbox",
                "pgtrickle.orders_inbox", "ACTIVE", 3, true, true, 72, 0L, 3, 0));

        request("SELECT pgtrickle.create_inbox('audit', schema => 'events', max_retries => 5, with_dead_letter => false,"
                + " with_stats => false, retention_hours => 1)");
        assertThat(db.value("SELECT array_to_string(stream_tables, ',') FROM pgtrickle.inbox_status('events.audit')"))
                .isEqualTo("events.audit_pending");
        assertThat(db.value("SELECT to_regclass('events.audit_dlq') IS NULL AND to_regclass('events.audit_stats') IS NULL"))
                .isEqualTo(true);
    }

    @Test
    void eventsMoveFromPendingToProcessedOrThroughRetriesIntoTheDeadLetterQueue() {
        request("SELECT pgtrickle.create_inbox('orders_inbox', max_retries => 2)");
        db.execute("INSERT INTO pgtrickle.orders_inbox (event_id, event_type, payload) VALUES"
                + " ('e1', 'created', '{\"id\": 1}'), ('e2', 'created', '{\"id\": 2}'), ('e3', 'paid', '{\"id\": 1}')");

        assertThat(db.value("SELECT pgtrickle.inbox_mark_processed('orders_inbox', 'e1')")).isEqualTo(true);
        assertThat(db.value("SELECT pgtrickle.inbox_mark_processed('orders_inbox', 'e1')"))
                .as("processed already: a no-op").isEqualTo(false);
        assertThat(db.rows("SELECT * FROM pgtrickle.inbox_mark_failed('orders_inbox', 'e2', 'timeout')"))
                .containsExactly(List.of(1, false));
        assertThat(db.rows("SELECT * FROM pgtrickle.inbox_mark_failed('orders_inbox', 'e2', 'timeout again')"))
                .containsExactly(List.of(2, true));

        // The running engine refreshes the stream tables on their 1s schedule.
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> {
            assertThat(db.rows("SELECT event_id FROM pgtrickle.orders_inbox_pending")).containsExactly(List.of("e3"));
            assertThat(db.rows("SELECT event_id, retry_count, last_error FROM pgtrickle.orders_inbox_dlq"))
                    .containsExactly(List.of("e2", 2, "timeout again"));
            assertThat(db.rows("SELECT event_type, total, pending, failed, dead_lettered, processed"
                    + " FROM pgtrickle.orders_inbox_stats ORDER BY 1"))
                    .containsExactly(List.of("created", 2L, 0L, 0L, 1L, 1L), List.of("paid", 1L, 1L, 0L, 0L, 0L));
        });
        assertThat(db.rows("SELECT total, pending, failed, dead_lettered, processed FROM pgtrickle.inbox_status('orders_inbox')"))
                .containsExactly(List.of(3L, 1L, 0L, 1L, 1L));

        assertThat(db.value("SELECT pgtrickle.replay_inbox_messages('orders_inbox', ARRAY['e1', 'e2', 'e3', 'nope'])"))
                .as("e1 and e2 go back; e3 is pending already and nope unknown").isEqualTo(2);
        assertThat(db.rows("SELECT event_id, processed_at, retry_count, last_error FROM pgtrickle.orders_inbox ORDER BY 1"))
                .containsExactly(Arrays.asList("e1", null, 0, null), Arrays.asList("e2", null, 0, null),
                        Arrays.asList("e3", null, 0, null));
        await().atMost(Duration.ofSeconds(15)).untilAsserted(() -> assertThat(
                db.value("SELECT count(*) FROM pgtrickle.orders_inbox_pending")).isEqualTo(3L));
        assertThat(db.value("SELECT pgtrickle.replay_inbox_messages('orders_inbox', '{}')")).isEqualTo(0);
    }

    @Test
    void orderingAndDropAreRequestsTheEngineCarriesOut() {
        request("SELECT pgtrickle.create_inbox('ledger')");
        db.execute("ALTER TABLE pgtrickle.ledger ADD COLUMN seq integer");
        request("SELECT pgtrickle.enable_inbox_ordering('ledger', 'aggregate_id', 'seq')");
        assertThat(db.rows("SELECT name, effective_mode FROM pgtrickle.pgt_status() WHERE name LIKE '%ledger\\_next'"
                + " OR name LIKE '%ledger\\_gaps' ORDER BY 1")).containsExactly(
                List.of("pgtrickle.ledger_gaps", "DIFFERENTIAL"), List.of("pgtrickle.ledger_next", "DIFFERENTIAL"));
        request("SELECT pgtrickle.enable_inbox_ordering('ledger', 'aggregate_id', 'seq')");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).as("again: nothing new").isEqualTo(5L);

        request("SELECT pgtrickle.disable_inbox_ordering('ledger')");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(3L);

        db.execute("INSERT INTO pgtrickle.ledger (event_id) VALUES ('e1')");
        request("SELECT pgtrickle.drop_inbox('ledger')");
        assertThat(db.value("SELECT to_regclass('pgtrickle.ledger') IS NULL")).isEqualTo(true);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_stream_tables")).isEqualTo(0L);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_inboxes")).isEqualTo(0L);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_inbox_stream_tables")).isEqualTo(0L);
        assertThat(db.value("SELECT pgtrickle.drop_inbox('ledger', if_exists => true)")).isNull();
    }

    @Test
    void anInterruptedRequestCarriedOutAgainEndsInTheSamePlace() {
        request("SELECT pgtrickle.create_inbox('orders_inbox')");
        List<List<Object>> before = db.rows("SELECT pgt_id, pgt_name FROM pgtrickle.pgt_stream_tables ORDER BY 1");
        // An engine that died after creating a stream table but before recording it as the inbox's.
        db.execute("DELETE FROM pgtrickle.pgt_inbox_stream_tables WHERE kind = 'stats'");

        engine.inboxes().reconcile("orders_inbox", null);
        engine.inboxes().reconcile("orders_inbox", null);

        assertThat(db.rows("SELECT pgt_id, pgt_name FROM pgtrickle.pgt_stream_tables ORDER BY 1")).isEqualTo(before);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_inbox_stream_tables")).isEqualTo(3L);
    }

    @Test
    void badArgumentsFailTheCallersStatementNamingTheProblem() {
        request("SELECT pgtrickle.create_inbox('orders_inbox')");
        db.execute("CREATE TABLE public.taken (id int PRIMARY KEY)");
        request("SELECT pgtrickle.create_stream_table('public.taken_view', 'SELECT id FROM public.taken')");
        long requests = (Long) db.value("SELECT count(*) FROM pgtrickle.pgt_requests");

        assertSqlError("SELECT pgtrickle.create_inbox('taken', schema => 'public')", "42P07",
                "relation public.taken already exists");
        assertSqlError("SELECT pgtrickle.create_inbox('taken_view', schema => 'public')", "42P07",
                "stream table public.taken_view already exists");
        db.execute("CREATE TABLE events.clash_pending (id int)");
        assertSqlError("SELECT pgtrickle.create_inbox('clash', schema => 'events')", "42P07",
                "relation events.clash_pending already exists; inbox clash needs the name for its pending stream table");
        db.execute("CREATE FUNCTION events.fn_clash_dedup() RETURNS int LANGUAGE sql AS 'SELECT 1'");
        assertSqlError("SELECT pgtrickle.create_inbox('fn_clash', schema => 'events')", "42723",
                "function events.fn_clash_dedup() already exists; inbox fn_clash needs the name for its insert trigger");
        assertSqlError("SELECT pgtrickle.create_inbox('orders_inbox')", "42710", "inbox orders_inbox already exists");
        assertSqlError("SELECT pgtrickle.create_inbox('orders_inbox', schema => 'events')", "42710",
                "inbox orders_inbox already exists");
        assertSqlError("SELECT pgtrickle.create_inbox('x', schema => 'nowhere')", "3F000",
                "schema \"nowhere\" of inbox x does not exist");
        assertSqlError("SELECT pgtrickle.create_inbox('x', schema => 'pg_catalog')", "42939", "is reserved");
        assertSqlError("SELECT pgtrickle.create_inbox('x', max_retries => 0)", "22023",
                "max_retries of inbox x must be a positive number, not 0");
        assertSqlError("SELECT pgtrickle.create_inbox('x', max_retries => -1)", "22023", "not -1");
        assertSqlError("SELECT pgtrickle.create_inbox('x', retention_hours => 0)", "22023",
                "retention_hours of inbox x must be a positive number of hours, not 0");
        assertSqlError("SELECT pgtrickle.create_inbox('x', retention_hours => NULL)", "22023", "not NULL");
        assertSqlError("SELECT pgtrickle.create_inbox('x', schedule => 'often')", "22023", "invalid schedule \"often\"");
        assertSqlError("SELECT pgtrickle.create_inbox('x', schedule => '50ms')", "22023",
                "schedule of inbox x must be a duration of at least 100ms, not '50ms'");
        assertSqlError("SELECT pgtrickle.create_inbox('x', schedule => 'calculated')", "22023", "at least 100ms");
        assertSqlError("SELECT pgtrickle.create_inbox('')", "22023", "inbox name must not be empty");
        assertSqlError("SELECT pgtrickle.create_inbox('events.x')", "42602", "give one name, without a schema");
        assertSqlError("SELECT pgtrickle.create_inbox(repeat('n', 56))", "42622", "is too long");

        assertSqlError("SELECT pgtrickle.inbox_mark_processed('ghost', 'e1')", "42704", "inbox ghost does not exist");
        assertSqlError("SELECT pgtrickle.inbox_mark_failed('ghost', 'e1', 'x')", "42704", "inbox ghost does not exist");
        assertSqlError("SELECT pgtrickle.replay_inbox_messages('ghost', ARRAY['e1'])", "42704", "inbox ghost does not exist");
        assertSqlError("SELECT pgtrickle.inbox_status('ghost')", "42704", "inbox ghost does not exist");
        assertSqlError("SELECT pgtrickle.drop_inbox('ghost')", "42704", "inbox ghost does not exist");
        assertSqlError("SELECT pgtrickle.enable_inbox_ordering('ghost', 'aggregate_id', 'seq')", "42704",
                "inbox ghost does not exist");
        assertSqlError("SELECT pgtrickle.inbox_mark_processed('orders_inbox', 'e404')", "P0002",
                "event 'e404' is not in inbox orders_inbox");
        assertSqlError("SELECT pgtrickle.inbox_mark_failed('orders_inbox', 'e404', 'x')", "P0002",
                "event 'e404' is not in inbox orders_inbox");
        assertSqlError("SELECT pgtrickle.replay_inbox_messages('orders_inbox', NULL)", "22004", "event_ids must not be NULL");
        db.execute("INSERT INTO pgtrickle.orders_inbox (event_id) VALUES ('done')",
                "SELECT pgtrickle.inbox_mark_processed('orders_inbox', 'done')");
        assertSqlError("SELECT pgtrickle.inbox_mark_failed('orders_inbox', 'done', 'late')", "55000",
                "event 'done' of inbox orders_inbox was processed at");

        assertSqlError("SELECT pgtrickle.enable_inbox_ordering('orders_inbox', 'aggregate_id', 'seq')", "42703",
                "column \"seq\" (sequence_col) does not exist in inbox pgtrickle.orders_inbox");
        assertSqlError("SELECT pgtrickle.enable_inbox_ordering('orders_inbox', 'tenant', 'retry_count')", "42703",
                "column \"tenant\" (aggregate_id_col) does not exist");
        assertSqlError("SELECT pgtrickle.enable_inbox_ordering('orders_inbox', 'aggregate_id', 'event_type')", "42804",
                "sequence column \"event_type\" of inbox pgtrickle.orders_inbox is text, not an integer");
        assertSqlError("SELECT pgtrickle.enable_inbox_ordering('orders_inbox', 'retry_count', 'retry_count')", "22023",
                "are both \"retry_count\"");
        assertSqlError("SELECT pgtrickle.disable_inbox_ordering('orders_inbox')", "42704", "inbox orders_inbox has no ordering");

        request("SELECT pgtrickle.create_stream_table('pending_count',"
                + " 'SELECT count(*) AS n FROM pgtrickle.orders_inbox_pending')");
        assertSqlError("SELECT pgtrickle.drop_inbox('orders_inbox')", "2BP01",
                "cannot drop inbox orders_inbox: stream tables public.pending_count read it");
        request("SELECT pgtrickle.drop_stream_table('pending_count')");
        db.execute("SELECT pgtrickle.enable_outbox('pgtrickle.orders_inbox_dlq')");
        assertSqlError("SELECT pgtrickle.drop_inbox('orders_inbox')", "2BP01",
                "cannot drop inbox orders_inbox: its stream tables pgtrickle.orders_inbox_dlq have an outbox");
        db.execute("SELECT pgtrickle.disable_outbox('pgtrickle.orders_inbox_dlq')");

        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_requests")).as("no failed call registered a request")
                .isEqualTo(requests + 2);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_inboxes")).isEqualTo(1L);
        assertThat(db.value("SELECT state FROM pgtrickle.pgt_inboxes")).isEqualTo("ACTIVE");
    }

    @Test
    void aMalformedEventIdIsRefusedNamingTheInboxAndTheColumn() {
        request("SELECT pgtrickle.create_inbox('orders_inbox')");

        for (String[] bad : new String[][] {{"NULL", "NULL", "23502"}, {"''", "empty", "23514"}, {"'   '", "blank", "23514"}}) {
            PSQLException e = sqlError("INSERT INTO pgtrickle.orders_inbox (event_id, event_type) VALUES (" + bad[0]
                    + ", 'created')");
            ServerErrorMessage m = e.getServerErrorMessage();
            assertThat(m.getMessage()).isEqualTo("inbox pgtrickle.orders_inbox: event_id must not be " + bad[1]);
            assertThat(m.getSQLState()).isEqualTo(bad[2]);
            assertThat(List.of(m.getSchema(), m.getTable(), m.getColumn()))
                    .containsExactly("pgtrickle", "orders_inbox", "event_id");
            assertThat(m.getHint()).contains("stable id");
        }
        assertThat((Object) sqlError("INSERT INTO pgtrickle.orders_inbox (event_id) VALUES ('ok')")).isNull();
        assertThat(sqlError("UPDATE pgtrickle.orders_inbox SET event_id = ' '").getServerErrorMessage().getConstraint())
                .isEqualTo("orders_inbox_event_id_check");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.orders_inbox")).isEqualTo(1L);
    }

    @Test
    void theJavaApiReportsBadInputWithStableCodes() {
        Inboxes inboxes = engine.inboxes();
        inboxes.create(InboxSpec.of("api_inbox"));

        assertThatThrownBy(() -> inboxes.create(InboxSpec.of("api_inbox")))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NAME_TAKEN))
                .hasMessageContaining("cannot create inbox api_inbox: inbox api_inbox already exists");
        assertThatThrownBy(() -> inboxes.create(InboxSpec.of("other").withMaxRetries(0)))
                .isInstanceOfSatisfying(PgTrickleException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
        assertThatThrownBy(() -> inboxes.markProcessed("ghost", "e1"))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        assertThatThrownBy(() -> inboxes.markFailed("api_inbox", "e404", "x"))
                .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND))
                .hasMessageContaining("event 'e404' is not in inbox api_inbox");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_inboxes")).isEqualTo(1L);
        assertThat(inboxes.drop("ghost", true)).isFalse();
        assertThat(inboxes.drop("api_inbox", false)).isTrue();
        assertThat(db.value("SELECT to_regclass('pgtrickle.api_inbox_pending') IS NULL")).isEqualTo(true);
    }

    @Test
    void theJavaDefaultsAreTheDefaultsOfCreateInbox() {
        InboxSpec d = InboxSpec.of("x");
        assertThat(db.value("SELECT pg_get_function_arguments('pgtrickle.create_inbox'::regproc)")).isEqualTo(
                "name text, schema text DEFAULT '" + d.schema() + "'::text, max_retries integer DEFAULT " + d.maxRetries()
                        + ", with_dead_letter boolean DEFAULT " + d.withDeadLetter() + ", with_stats boolean DEFAULT "
                        + d.withStats() + ", retention_hours integer DEFAULT " + d.retentionHours()
                        + ", schedule text DEFAULT '" + d.schedule() + "'::text");
    }

    private void assertSqlError(String sql, String sqlState, String message) {
        PSQLException e = sqlError(sql);
        assertThat((Object) e).as(sql).isNotNull();
        assertThat(e.getServerErrorMessage().getMessage()).as(sql).contains(message);
        assertThat(e.getSQLState()).as(sql).isEqualTo(sqlState);
    }

    /** The error {@code sql} raises, or null when it succeeds. */
    private PSQLException sqlError(String sql) {
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            s.execute(sql);
            return null;
        } catch (PSQLException e) {
            return e;
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
