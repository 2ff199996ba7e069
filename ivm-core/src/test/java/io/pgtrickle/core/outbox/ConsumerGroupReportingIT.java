package io.pgtrickle.core.outbox;

import static io.pgtrickle.core.outbox.OutboxFixture.write;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * outbox_status lists the groups reading an outbox with their offset, backlog, lease, last
 * heartbeat and state; a group whose oldest pending entry is older than half the retention is
 * BEHIND, one whose members have all been silent for five minutes while entries wait is DEAD, and
 * health_check names each such group, its outbox and the fix.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ConsumerGroupReportingIT {
    private final TestDatabase db;
    private final SqlCalls sql;

    ConsumerGroupReportingIT(TestDatabase db) {
        this.db = db;
        this.sql = new SqlCalls(db);
    }

    @Test
    void behindAndDeadGroupsAreReportedByOutboxStatusAndHealthCheckUntilFixed() {
        try (PgTrickleEngine engine = OutboxFixture.engine(db)) {
            OutboxFixture.streamTablesWithOutboxes(engine, db, 24, "orders");
        }
        long oldEntry = write(db, "orders", 3, OffsetDateTime.now().minusHours(13));
        long newEntry = write(db, "orders", 2);
        sql.create("current", "orders", "earliest");
        sql.create("behind", "orders", "earliest");
        sql.create("dead", "orders", "earliest");
        sql.create("quiet", "orders", "latest");
        assertThat(sql.poll("current", "c1", 10)).containsExactly(oldEntry, newEntry);
        sql.commit("current", "c1", newEntry);
        assertThat(sql.poll("behind", "b1", 1)).containsExactly(oldEntry);   // leased, not committed
        // dead: its member last polled six minutes ago; quiet: nobody ever polled, but nothing waits.
        assertThat(sql.poll("dead", "d1", 1)).containsExactly(oldEntry);
        db.execute("UPDATE pgtrickle.pgt_consumer_groups SET created_at = created_at - interval '10 minutes'"
                        + " WHERE group_name IN ('dead', 'quiet')",
                "UPDATE pgtrickle.pgt_consumer_group_members SET last_seen_at = clock_timestamp() - interval '6 minutes',"
                        + " last_poll_at = clock_timestamp() - interval '6 minutes' WHERE group_name = 'dead'");

        List<List<Object>> groups = db.rows("SELECT g ->> 'group', (g ->> 'committed_offset')::bigint,"
                + " (g ->> 'entries_pending')::bigint, (g ->> 'changes_pending')::bigint, g ->> 'lease_consumer',"
                + " g ->> 'last_heartbeat_at' IS NOT NULL, g ->> 'state'"
                + " FROM pgtrickle.outbox_status('orders') s, jsonb_array_elements(s.consumer_groups) g");
        assertThat(groups).containsExactly(
                Arrays.asList("behind", oldEntry - 1, 2L, 5L, "b1", true, "BEHIND"),
                Arrays.asList("current", newEntry, 0L, 0L, null, true, "OK"),
                Arrays.asList("dead", oldEntry - 1, 2L, 5L, "d1", true, "DEAD"),
                Arrays.asList("quiet", newEntry, 0L, 0L, null, false, "OK"));
        assertThat(db.rows("SELECT entries, first_offset, last_offset FROM pgtrickle.outbox_status('orders')"))
                .as("V15's columns are still there").containsExactly(List.of(2L, oldEntry, newEntry));
        assertThat(db.rows("SELECT state, oldest_pending_age > interval '12 hours', entries_pending"
                + " FROM pgtrickle.consumer_lag('behind')")).containsExactly(List.of("BEHIND", true, 2L));

        List<List<Object>> findings = db.rows("SELECT check_name, severity, detail FROM pgtrickle.health_check()"
                + " WHERE check_name LIKE 'consumer_group%'");
        assertThat(findings).extracting(r -> r.get(0) + " " + r.get(1))
                .containsExactly("consumer_group_dead ERROR", "consumer_group_behind WARNING");
        assertThat(findings.get(0).get(2).toString()).startsWith("consumer group \"dead\" on the outbox of public.orders"
                + " is dead: no member has polled or sent a heartbeat for 00:06:").contains(" while 2 entries wait after offset "
                + (oldEntry - 1), "SELECT pgtrickle.drop_consumer_group('dead')");
        assertThat(findings.get(1).get(2).toString()).startsWith("consumer group \"behind\" on the outbox of public.orders"
                + " is behind: its oldest pending entry is 13:00:").contains("over half the retention of 24 hour(s)",
                "with 2 entries pending", "pgtrickle.consumer_lag('behind')");

        // Fixed: the dead group is dropped, the one behind catches up.
        db.execute("SELECT pgtrickle.drop_consumer_group('dead')");
        assertThat(sql.poll("behind", "b1", 10)).containsExactly(oldEntry);
        sql.commit("behind", "b1", oldEntry);
        assertThat(db.rows("SELECT state FROM pgtrickle.consumer_lag('behind')")).containsExactly(List.of("OK"));
        assertThat(db.value("SELECT count(*) FROM pgtrickle.health_check() WHERE check_name LIKE 'consumer_group%'"))
                .isEqualTo(0L);
    }

    @Test
    void aGroupNobodyEverPolledIsDeadOnlyOnceEntriesHaveWaitedFiveMinutesSinceItsCreation() {
        try (PgTrickleEngine engine = OutboxFixture.engine(db)) {
            OutboxFixture.streamTablesWithOutboxes(engine, db, 24, "orders");
        }
        sql.create("fresh", "orders", "latest");
        write(db, "orders", 1);
        assertThat(db.value("SELECT state FROM pgtrickle.consumer_lag('fresh')")).isEqualTo("OK");
        db.execute("UPDATE pgtrickle.pgt_consumer_groups SET created_at = created_at - interval '5 minutes 1 second'");
        assertThat(db.value("SELECT state FROM pgtrickle.consumer_lag('fresh')")).isEqualTo("DEAD");
        assertThat(db.value("SELECT detail FROM pgtrickle.health_check() WHERE check_name = 'consumer_group_dead'"))
                .asString().contains("\"fresh\"", "no member has ever polled or sent a heartbeat", "1 entry waits");
        db.execute("SELECT pgtrickle.consumer_heartbeat('fresh', 'late-starter')");
        assertThat(db.value("SELECT state FROM pgtrickle.consumer_lag('fresh')")).as("a heartbeat revives it").isEqualTo("OK");
    }
}
