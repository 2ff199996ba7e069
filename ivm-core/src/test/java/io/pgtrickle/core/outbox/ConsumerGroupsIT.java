package io.pgtrickle.core.outbox;

import static io.pgtrickle.core.outbox.OutboxFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.util.ServerErrorMessage;

/**
 * The consumer-group SQL functions on a real PostgreSQL: where a group starts, one lease at a
 * time, commits only within the lease and only forward, seek within what the outbox retains,
 * lease extension and heartbeats, and every bad input refused with the object named and the fix.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ConsumerGroupsIT {
    private final TestDatabase db;
    private final SqlCalls sql;
    private PgTrickleEngine engine;

    ConsumerGroupsIT(TestDatabase db) {
        this.db = db;
        this.sql = new SqlCalls(db);
    }

    @BeforeEach
    void outboxes() {
        engine = OutboxFixture.engine(db);
        OutboxFixture.streamTablesWithOutboxes(engine, db, 24, "orders", "payments");
    }

    @AfterEach
    void close() {
        engine.close();
    }

    @Test
    void latestStartsAfterTheNewestEntryAndEarliestBeforeTheOldest() {
        long o1 = write(db, "orders", 1);
        long o2 = write(db, "orders", 1);
        write(db, "payments", 1);

        assertThat(sql.create("from_now", "orders", "latest")).isEqualTo(o2);
        assertThat(sql.create("from_start", "orders", "EARLIEST")).isEqualTo(o1 - 1);
        assertThat(((Number) db.value("SELECT pgtrickle.create_consumer_group('by_default', 'public.orders')")).longValue())
                .as("latest is the default").isEqualTo(o2);
        long o3 = write(db, "orders", 1);
        write(db, "payments", 1);

        assertThat(sql.poll("from_now", "a", 10)).containsExactly(o3);
        assertThat(sql.poll("by_default", "a", 10)).containsExactly(o3);
        assertThat(sql.poll("from_start", "a", 10)).as("only the outbox it reads, in offset order")
                .containsExactly(o1, o2, o3);
    }

    @Test
    void oneMemberHoldsTheLeaseAndGetsTheSameEntriesAgainUntilItCommits() {
        long[] e = new long[5];
        for (int i = 0; i < e.length; i++) {
            e[i] = write(db, "orders", 1);
        }
        sql.create("g", "orders", "earliest");

        List<List<Object>> first = db.rows("SELECT outbox_offset, lease_expires_at BETWEEN clock_timestamp() + interval '20 s'"
                + " AND clock_timestamp() + interval '30 s' FROM pgtrickle.poll_outbox('g', 'a', 3)");
        assertThat(first).as("leased for the default 30 s")
                .containsExactly(List.of(e[0], true), List.of(e[1], true), List.of(e[2], true));
        assertThat(sql.poll("g", "b", 10)).as("another member while the lease is live").isEmpty();

        long e6 = write(db, "orders", 1);
        assertThat(sql.poll("g", "a", 10)).as("the holder again: the same entries, nothing new")
                .containsExactly(e[0], e[1], e[2]);

        // Part of the lease: the rest stays leased to the same member.
        sql.commit("g", "a", e[1]);
        assertThat(db.rows("SELECT committed_offset, lease_consumer, lease_last_offset FROM pgtrickle.consumer_lag('g')"))
                .containsExactly(List.of(e[1], "a", e[2]));
        assertThat(sql.poll("g", "b", 10)).isEmpty();
        assertThat(sql.poll("g", "a", 10)).containsExactly(e[2]);

        // All of it: the lease is released and the next poll, by anyone, gets what follows.
        sql.commit("g", "a", e[2]);
        assertThat(db.rows("SELECT lease_consumer, lease_expires_at FROM pgtrickle.consumer_lag('g')"))
                .containsExactly(java.util.Arrays.asList(null, null));
        assertThat(sql.poll("g", "b", 100)).containsExactly(e[3], e[4], e6);
        sql.commit("g", "b", e6);
        assertThat(db.rows("SELECT committed_offset, newest_offset, entries_pending, state FROM pgtrickle.consumer_lag('g')"))
                .containsExactly(List.of(e6, e6, 0L, "OK"));
        assertThat(sql.poll("g", "a", 10)).isEmpty();
    }

    @Test
    void anExpiredLeaseIsReofferedToTheNextPollAndItsEntriesAreCommittedOnce() {
        long e1 = write(db, "orders", 1);
        long e2 = write(db, "orders", 2);
        sql.create("shared", "orders", "earliest");

        assertThat(sql.poll("shared", "a", 10, 1)).containsExactly(e1, e2);
        assertThat(sql.poll("shared", "b", 10, 30)).isEmpty();
        // a stalls past its one-second lease; b's next poll gets the same entries.
        List<Long> reoffered = await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(200))
                .until(() -> sql.poll("shared", "b", 10, 30), got -> !got.isEmpty());
        assertThat(reoffered).containsExactly(e1, e2);

        ServerErrorMessage lost = sql.refused("SELECT pgtrickle.commit_offset('shared', 'a', ?)", e2);
        assertThat(lost.getSQLState()).isEqualTo("55000");
        assertThat(lost.getMessage()).isEqualTo("cannot commit offset " + e2
                + ": the lease on consumer group \"shared\" is held by consumer \"b\" (until "
                + db.value("SELECT lease_expires_at::text FROM pgtrickle.pgt_consumer_groups") + "), not by \"a\"");
        assertThat(lost.getHint()).contains("your lease expired and its entries were offered again", "poll_outbox again");

        sql.commit("shared", "b", e2);
        assertThat(sql.committed("shared")).isEqualTo(e2);
        assertThat(sql.poll("shared", "a", 10)).isEmpty();
        assertThat(sql.poll("shared", "b", 10)).isEmpty();
        assertThat(sql.committed("shared")).isEqualTo(e2);
    }

    @Test
    void commitsBeyondTheLeaseBackwardsOrWithoutALiveLeaseAreRefused() {
        long e1 = write(db, "orders", 1);
        long e2 = write(db, "orders", 1);
        long e3 = write(db, "orders", 1);
        sql.create("g", "orders", "earliest");

        ServerErrorMessage unknown = sql.refused("SELECT pgtrickle.commit_offset('nope', 'a', 1)");
        assertThat(unknown.getSQLState()).isEqualTo("42704");
        assertThat(unknown.getMessage()).isEqualTo("consumer group \"nope\" does not exist");
        assertThat(unknown.getHint()).contains("pgtrickle.create_consumer_group('nope', outbox => ");

        ServerErrorMessage noLease = sql.refused("SELECT pgtrickle.commit_offset('g', 'a', ?)", e1);
        assertThat(noLease.getSQLState()).isEqualTo("55000");
        assertThat(noLease.getMessage()).isEqualTo("cannot commit offset " + e1
                + ": consumer \"a\" holds no lease on consumer group \"g\"");

        assertThat(sql.poll("g", "a", 2)).containsExactly(e1, e2);
        ServerErrorMessage beyond = sql.refused("SELECT pgtrickle.commit_offset('g', 'a', ?)", e3);
        assertThat(beyond.getSQLState()).isEqualTo("22023");
        assertThat(beyond.getMessage()).isEqualTo("cannot commit offset " + e3
                + ": consumer \"a\" was given entries of consumer group \"g\" up to offset " + e2 + " only");
        assertThat(beyond.getHint()).startsWith("commit at most " + e2);
        assertThat(sql.refused("SELECT pgtrickle.commit_offset('g', 'b', ?)", e1).getMessage())
                .contains("is held by consumer \"a\"", "not by \"b\"");

        sql.commit("g", "a", e1);
        sql.commit("g", "a", e1);   // a retried commit: nothing happens
        assertThat(sql.committed("g")).isEqualTo(e1);
        ServerErrorMessage back = sql.refused("SELECT pgtrickle.commit_offset('g', 'a', ?)", e1 - 1);
        assertThat(back.getSQLState()).isEqualTo("22023");
        assertThat(back.getMessage()).isEqualTo("commit_offset would move consumer group \"g\" back from offset " + e1
                + " to " + (e1 - 1));
        assertThat(back.getHint()).contains("SELECT pgtrickle.seek_offset('g', " + (e1 - 1) + ")");

        // a's lease runs out (as if a minute passed): its commit is refused although nobody polled since.
        db.execute("UPDATE pgtrickle.pgt_consumer_groups SET lease_expires_at = clock_timestamp() - interval '1 second'");
        ServerErrorMessage expired = sql.refused("SELECT pgtrickle.commit_offset('g', 'a', ?)", e2);
        assertThat(expired.getSQLState()).isEqualTo("55000");
        assertThat(expired.getMessage()).startsWith("cannot commit offset " + e2
                + ": the lease of consumer \"a\" on consumer group \"g\" expired at ");
        assertThat(expired.getHint()).contains("the entries after offset " + e1 + " are offered again", "extend_lease");
        assertThat(sql.refused("SELECT pgtrickle.commit_offset('g', 'a', NULL)").getMessage())
                .isEqualTo("last_offset must not be NULL");
        assertThat(sql.committed("g")).isEqualTo(e1);

        assertThat(sql.poll("g", "b", 10)).as("re-offered from the committed offset").containsExactly(e2, e3);
    }

    @Test
    void seekReplaysOrSkipsWithinWhatTheOutboxRetainsAndReleasesTheLease() {
        long e1 = write(db, "orders", 1);
        long e2 = write(db, "orders", 1);
        long e3 = write(db, "orders", 1);
        sql.create("g", "orders", "earliest");
        assertThat(sql.poll("g", "a", 10)).containsExactly(e1, e2, e3);
        sql.commit("g", "a", e3);

        sql.seek("g", e1 - 1);
        assertThat(sql.poll("g", "a", 10)).as("a replay").containsExactly(e1, e2, e3);
        sql.seek("g", e1);
        assertThat(db.value("SELECT lease_consumer FROM pgtrickle.consumer_lag('g')")).as("released").isNull();
        assertThat(sql.poll("g", "b", 10)).containsExactly(e2, e3);

        ServerErrorMessage early = sql.refused("SELECT pgtrickle.seek_offset('g', ?)", e1 - 2);
        assertThat(early.getSQLState()).isEqualTo("22023");
        assertThat(early.getMessage()).isEqualTo("cannot seek consumer group \"g\" to offset " + (e1 - 2)
                + ": the outbox of public.orders retains entries after offset " + (e1 - 1) + " only");
        assertThat(early.getHint()).isEqualTo("seek to " + (e1 - 1)
                + " or later (the earliest available: it replays from the oldest entry retained)");
        ServerErrorMessage late = sql.refused("SELECT pgtrickle.seek_offset('g', ?)", e3 + 1);
        assertThat(late.getMessage()).isEqualTo("cannot seek consumer group \"g\" to offset " + (e3 + 1)
                + ": the newest entry of the outbox of public.orders is offset " + e3);
        assertThat(late.getHint()).startsWith("seek to at most " + e3);
        assertThat(sql.refused("SELECT pgtrickle.seek_offset('nope', 1)").getSQLState()).isEqualTo("42704");
        assertThat(sql.refused("SELECT pgtrickle.seek_offset('g', NULL)").getSQLState()).isEqualTo("22023");

        sql.seek("g", e3);
        assertThat(sql.poll("g", "a", 10)).as("skipped to the newest").isEmpty();
        assertThat(sql.committed("g")).isEqualTo(e3);
    }

    @Test
    void extendLeaseKeepsTheLeaseAndHeartbeatsListTheMembers() throws InterruptedException {
        long e1 = write(db, "orders", 1);
        sql.create("g", "orders", "earliest");
        assertThat(sql.poll("g", "a", 10, 1)).containsExactly(e1);
        assertThat(db.value("SELECT pgtrickle.extend_lease('g', 'a', 60) > clock_timestamp() + interval '50 s'")).isEqualTo(true);
        Thread.sleep(1_500);
        assertThat(sql.poll("g", "b", 10)).as("the lease outlived its first second").isEmpty();
        sql.commit("g", "a", e1);

        ServerErrorMessage notHolder = sql.refused("SELECT pgtrickle.extend_lease('g', 'b', 60)");
        assertThat(notHolder.getSQLState()).isEqualTo("55000");
        assertThat(notHolder.getMessage()).isEqualTo("cannot extend the lease: consumer \"b\" holds no lease on consumer group \"g\"");
        assertThat(sql.refused("SELECT pgtrickle.extend_lease('g', 'a', 0)").getMessage())
                .isEqualTo("visibility_seconds must be 1 or more, not 0");

        db.execute("SELECT pgtrickle.consumer_heartbeat('g', 'c')");
        List<List<Object>> lag = db.rows("SELECT c ->> 'consumer', c ->> 'last_poll_at' IS NOT NULL, c ->> 'last_seen_at' IS NOT NULL"
                + " FROM pgtrickle.consumer_lag('g'), jsonb_array_elements(consumers) c");
        assertThat(lag).containsExactly(List.of("a", true, true), List.of("b", true, true), List.of("c", false, true));

        assertThat(sql.refused("SELECT pgtrickle.consumer_heartbeat('nope', 'c')").getSQLState()).isEqualTo("42704");
        assertThat(sql.refused("SELECT pgtrickle.consumer_heartbeat('g', ' ')").getMessage())
                .isEqualTo("consumer name must not be empty");
        assertThat(sql.refused("SELECT * FROM pgtrickle.poll_outbox('g', 'a', 0)").getMessage())
                .isEqualTo("batch_size must be 1 or more, not 0");
        assertThat(sql.refused("SELECT * FROM pgtrickle.poll_outbox('nope', 'a')").getSQLState()).isEqualTo("42704");
        assertThat(sql.refused("SELECT * FROM pgtrickle.consumer_lag('nope')").getSQLState()).isEqualTo("42704");
    }

    @Test
    void createAndDropRefuseBadInputNamingTheObjectAndTheFix() {
        engine.streamTables().create(StreamTableSpec.parse("plain", "SELECT id FROM src", "1h", "FULL"));
        sql.create("g", "orders", "latest");

        ServerErrorMessage reset = sql.refused("SELECT pgtrickle.create_consumer_group('h', 'orders', 'newest')");
        assertThat(reset.getSQLState()).isEqualTo("22023");
        assertThat(reset.getMessage()).isEqualTo("invalid auto_offset_reset \"newest\" for consumer group \"h\"");
        assertThat(reset.getHint()).contains("'latest'", "'earliest'");
        ServerErrorMessage taken = sql.refused("SELECT pgtrickle.create_consumer_group('g', 'payments')");
        assertThat(taken.getSQLState()).isEqualTo("42710");
        assertThat(taken.getMessage()).isEqualTo("consumer group \"g\" already exists (reading the outbox of public.orders)");
        assertThat(taken.getHint()).contains("SELECT pgtrickle.drop_consumer_group('g')");
        ServerErrorMessage missing = sql.refused("SELECT pgtrickle.create_consumer_group('h', 'nope')");
        assertThat(missing.getSQLState()).isEqualTo("42P01");
        assertThat(missing.getMessage()).isEqualTo("stream table public.nope does not exist");
        assertThat(missing.getHint()).contains("pgt_status()");
        ServerErrorMessage noOutbox = sql.refused("SELECT pgtrickle.create_consumer_group('h', 'plain')");
        assertThat(noOutbox.getSQLState()).isEqualTo("42704");
        assertThat(noOutbox.getMessage()).isEqualTo("stream table public.plain has no outbox");
        assertThat(noOutbox.getHint()).contains("pgtrickle.enable_outbox('public.plain')");
        assertThat(sql.refused("SELECT pgtrickle.create_consumer_group('', 'orders')").getMessage())
                .isEqualTo("consumer group name must not be empty");

        ServerErrorMessage dropUnknown = sql.refused("SELECT pgtrickle.drop_consumer_group('nope')");
        assertThat(dropUnknown.getSQLState()).isEqualTo("42704");
        db.execute("SELECT pgtrickle.drop_consumer_group('nope', if_exists => true)");
        db.execute("SELECT pgtrickle.consumer_heartbeat('g', 'a')");
        db.execute("SELECT pgtrickle.drop_consumer_group('g')");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_consumer_group_members")).isEqualTo(0L);
        sql.create("g", "payments", "latest");   // the name is free again
    }

    @Test
    void disablingAnOutboxThatGroupsReadNeedsCascadeAndDroppingItsStreamTableTakesThemAlong() {
        sql.create("g1", "orders", "latest");
        sql.create("g2", "orders", "latest");
        db.execute("SELECT pgtrickle.consumer_heartbeat('g1', 'a')");

        ServerErrorMessage refused = sql.refused("SELECT pgtrickle.disable_outbox('orders')");
        assertThat(refused.getSQLState()).isEqualTo("2BP01");
        assertThat(refused.getMessage()).isEqualTo("cannot disable the outbox of public.orders: consumer groups \"g1\", \"g2\" read it");
        assertThat(refused.getHint()).contains("drop_consumer_group", "\"cascade\" => true");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_outbox_config")).isEqualTo(2L);

        db.execute("SELECT pgtrickle.disable_outbox('orders', \"cascade\" => true)");
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_consumer_groups")).isEqualTo(0L);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_consumer_group_members")).isEqualTo(0L);
        db.execute("SELECT pgtrickle.disable_outbox('orders', true)");   // V15's if_exists still works

        sql.create("g3", "payments", "latest");
        engine.streamTables().drop(QualifiedName.parse("payments"), true);
        assertThat(db.value("SELECT count(*) FROM pgtrickle.pgt_consumer_groups")).isEqualTo(0L);
    }

    @Test
    void pollApplyAndCommitInOneTransactionCountOnceOrNotAtAll() throws Exception {
        long e1 = write(db, "orders", 1);
        long e2 = write(db, "orders", 1);
        sql.create("g", "orders", "earliest");
        db.execute("CREATE TABLE applied (outbox_offset bigint PRIMARY KEY)");
        String apply = "INSERT INTO applied SELECT outbox_offset FROM pgtrickle.poll_outbox('g', 'a', 1)";

        try (java.sql.Connection c = db.connect(); java.sql.Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.execute(apply);
            assertThat(sql.poll("g", "b", 10)).as("the group is busy: nothing, and no wait").isEmpty();
            c.rollback();   // the work, the lease and the commit all vanish
            assertThat(db.value("SELECT count(*) FROM applied")).isEqualTo(0L);

            s.execute(apply);
            s.execute("SELECT pgtrickle.commit_offset('g', 'a', (SELECT max(outbox_offset) FROM applied))");
            c.commit();
        }
        assertThat(db.rows("SELECT outbox_offset FROM applied")).containsExactly(List.of(e1));
        assertThat(sql.committed("g")).isEqualTo(e1);
        assertThat(sql.poll("g", "b", 10)).containsExactly(e2);
    }

    @Test
    void aLargeEntryComesWithoutInlineChangesAndIsPagedFromTheSideTable() {
        long small = write(db, "orders", 2);
        long large = write(db, "orders", 5);
        sql.create("g", "orders", "earliest");

        List<List<Object>> polled = db.rows("SELECT outbox_offset, row_count, jsonb_array_length(changes), dedup_key_prefix"
                + " FROM pgtrickle.poll_outbox('g', 'a')");
        assertThat(polled).containsExactly(List.of(small, 2L, 2, "public.orders:" + small + ":"),
                java.util.Arrays.asList(large, 5L, null, "public.orders:" + large + ":"));
        assertThat(db.rows("SELECT row_index FROM pgtrickle.outbox_changes(?, 1, 2)", large))
                .containsExactly(List.of(2), List.of(3));
    }
}
