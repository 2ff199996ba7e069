package io.pgtrickle.relay.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.relay.config.ConfigLoader;
import io.pgtrickle.relay.config.RelayConfig;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;

/**
 * A reverse pipeline from a Redis stream into an inbox: each event once (by its payload field),
 * across a restart that redelivers what was not acknowledged; a message that is not JSON lands in
 * the dead-letter table with the reason, and the pipeline goes on.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class RelayReverseIT {
    private final TestDatabase db;
    private final String key = "pgt-reverse-" + System.nanoTime();

    RelayReverseIT(TestDatabase db) {
        this.db = db;
    }

    @AfterEach
    void dropStream() {
        try (RedisClient redis = RedisClient.builder().hostAndPort("127.0.0.1", 6379).build()) {
            redis.del(key);
        }
    }

    private RelayConfig config() {
        return ConfigLoader.parse("""
                postgres_url = "%s"
                metrics_addr = "127.0.0.1:0"
                relay_group_id = "reverse"
                [engine]
                enabled = true

                [[pipeline]]
                name = "returns-in"
                direction = "reverse"
                batch_size = 10
                [pipeline.source]
                type = "redis"
                stream_key = "%s"
                [pipeline.sink]
                inbox = "returns_inbox"
                event_id = "field:return_id"
                event_type = "field:type"
                aggregate_id = "field:order.id"
                """.formatted(db.jdbcUrl(), key), "RelayReverseIT", Map.of());
    }

    private Relay start() throws Exception {
        return Relay.start(config(), new PrintStream(PrintStream.nullOutputStream()),
                e -> e.withSlotName("pgtrickle_" + db.name()));
    }

    private void add(String value) {
        try (RedisClient redis = RedisClient.builder().hostAndPort("127.0.0.1", 6379).build()) {
            redis.xadd(key, StreamEntryID.NEW_ENTRY, Map.of("value", value));
        }
    }

    @Test
    void eachEventLandsOnceAndAnUndecodableMessageGoesToTheDeadLetterTable() throws Exception {
        try (Relay relay = start()) {
            Object request = db.value("SELECT pgtrickle.create_inbox('returns_inbox')");
            db.value("SELECT pgtrickle.await_request(?, '60 seconds')", request);
            for (int i = 0; i < 25; i++) {
                add("{\"return_id\": \"r" + (i % 20) + "\", \"type\": \"return.created\", \"order\": {\"id\": " + i
                        + "}}");
            }
            add("not json at all");
            await().atMost(Duration.ofSeconds(30)).until(() -> count("TRUE") == 21L);
        }
        // Events 0-19 once each (the five repeats of r0-r4 skipped), and the dead letter.
        assertThat(count("retry_count = 0")).isEqualTo(20L);
        assertThat(db.rows("SELECT event_type, aggregate_id, source = ? FROM pgtrickle.returns_inbox"
                + " WHERE event_id = 'r7'", key)).containsExactly(List.of("return.created", "7", true));
        assertThat(db.rows("SELECT event_id LIKE 'redis:' || ? || '/%', last_error, retry_count = 3"
                + " FROM pgtrickle.returns_inbox WHERE retry_count > 0", key))
                .containsExactly(List.of(true, "the payload is not JSON: "
                        + "Unrecognized token 'not': was expecting (JSON String, Number, Array, Object or token 'null', 'true' or 'false')",
                        true));

        add("{\"return_id\": \"r99\", \"type\": \"return.created\"}");
        try (Relay relay = start()) {
            await().atMost(Duration.ofSeconds(30)).until(() -> count("TRUE") == 22L);
            Thread.sleep(1000);
        }
        assertThat(count("TRUE")).as("nothing redelivered twice after the restart").isEqualTo(22L);
        assertThat(db.value("SELECT source_position FROM pgtrickle.pgt_source_offsets"
                + " WHERE consumer = 'reverse/returns-in' AND source_partition = ?", key)).isNotNull();
    }

    private long count(String where) {
        return (Long) db.value("SELECT count(*) FROM pgtrickle.returns_inbox WHERE " + where);
    }
}
