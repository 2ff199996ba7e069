package io.pgtrickle.core.outbox;

import static io.pgtrickle.core.outbox.OutboxFixture.write;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.outbox.ConsumerGroups.OffsetReset;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/** The Java API over the consumer-group functions: typed results, and each refusal with its stable code. */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ConsumerGroupsApiIT {
    private final TestDatabase db;

    ConsumerGroupsApiIT(TestDatabase db) {
        this.db = db;
    }

    @Test
    void pollCommitSeekAndLagThroughTheJavaApi() {
        try (PgTrickleEngine engine = OutboxFixture.engine(db)) {
            OutboxFixture.streamTablesWithOutboxes(engine, db, 24, "orders");
            ConsumerGroups groups = engine.consumerGroups();
            long e1 = write(db, "orders", 2);
            long e2 = write(db, "orders", 3);
            assertThat(groups.create("app", "orders", OffsetReset.EARLIEST)).isEqualTo(e1 - 1);

            ConsumerGroupBatch batch = groups.poll("app", "a");
            assertThat(batch.entries()).extracting(OutboxEntry::offset).containsExactly(e1, e2);
            OutboxEntry first = batch.entries().get(0);
            assertThat(first.streamTable()).isEqualTo("public.orders");
            assertThat(first.rowCount()).isEqualTo(2);
            assertThat(first.inserted()).isEqualTo(2);
            assertThat(first.changesInline()).isTrue();
            assertThat(first.inlineChanges()).contains("\"op\": \"insert\"", "\"row_index\": 1");
            assertThat(first.dedupKey(1)).isEqualTo("public.orders:" + e1 + ":1");
            assertThat(batch.entries().get(1).changesInline()).as("3 rows: over the threshold of 2").isFalse();
            assertThat(batch.leaseExpiresAt()).isAfter(OffsetDateTime.now().plusSeconds(20));
            assertThat(batch.lastOffset()).isEqualTo(e2);
            assertThat(groups.poll("app", "b").isEmpty()).isTrue();

            assertThatThrownBy(() -> groups.commit("app", "b", e2)).isInstanceOfSatisfying(PgTrickleException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.LEASE_NOT_HELD)).hasMessageContaining(
                    "the lease on consumer group \"app\" is held by consumer \"a\"").hasMessageContaining("; hint: ");
            assertThatThrownBy(() -> groups.commit("app", "a", e2 + 1)).isInstanceOfSatisfying(PgTrickleException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT));
            assertThat(groups.extendLease("app", "a", Duration.ofMinutes(2))).isAfter(OffsetDateTime.now().plusSeconds(100));
            groups.commit("app", "a", e1);
            groups.heartbeat("app", "c");

            ConsumerGroupLag lag = groups.lag("app");
            assertThat(lag.group()).isEqualTo("app");
            assertThat(lag.outbox()).isEqualTo("public.orders");
            assertThat(lag.committedOffset()).isEqualTo(e1);
            assertThat(lag.newestOffset()).isEqualTo(e2);
            assertThat(lag.entriesPending()).isEqualTo(1);
            assertThat(lag.changesPending()).isEqualTo(3);
            assertThat(lag.oldestPendingAge()).isBetween(Duration.ZERO, Duration.ofMinutes(1));
            assertThat(lag.leaseConsumer()).isEqualTo("a");
            assertThat(lag.leaseLastOffset()).isEqualTo(e2);
            assertThat(lag.consumers()).extracting(ConsumerGroupMember::consumer).containsExactly("a", "b", "c");
            assertThat(lag.consumers().get(2).lastPollAt()).as("c only sent a heartbeat").isNull();
            assertThat(lag.state()).isEqualTo(ConsumerGroupState.OK);

            assertThatThrownBy(() -> groups.commit("app", "a", e1 - 1)).isInstanceOfSatisfying(PgTrickleException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT)).hasMessageContaining("seek_offset");
            groups.seek("app", e1 - 1);
            assertThat(groups.poll("app", "b", 1, Duration.ofSeconds(5)).entries()).extracting(OutboxEntry::offset)
                    .containsExactly(e1);

            assertThatThrownBy(() -> groups.create("app", "orders", OffsetReset.LATEST))
                    .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NAME_TAKEN));
            assertThatThrownBy(() -> groups.create("other", "missing", OffsetReset.LATEST))
                    .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
            assertThatThrownBy(() -> groups.poll("missing", "a")).isInstanceOfSatisfying(PgTrickleException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND)).hasMessageContaining("create_consumer_group");
            assertThatThrownBy(() -> groups.extendLease("app", "b", Duration.ofMillis(1500)))
                    .isInstanceOfSatisfying(PgTrickleException.class, e -> assertThat(e.code()).isEqualTo(ErrorCode.INVALID_ARGUMENT))
                    .hasMessageContaining("whole number of seconds");
            assertThat(groups.find("missing")).isEmpty();

            groups.drop("app", false);
            assertThat(groups.find("app")).isEmpty();
            groups.drop("app", true);
            assertThatThrownBy(() -> groups.drop("app", false)).isInstanceOfSatisfying(PgTrickleException.class,
                    e -> assertThat(e.code()).isEqualTo(ErrorCode.NOT_FOUND));
        }
    }
}
