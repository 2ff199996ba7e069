package io.pgtrickle.relay.target.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.format.Headers;
import io.pgtrickle.format.Template;
import io.pgtrickle.relay.config.RedisEndpoint;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.target.OutboundMessage;
import io.pgtrickle.relay.target.PublishResult;
import io.pgtrickle.relay.target.TargetException;
import io.pgtrickle.relay.testing.Changes;
import io.pgtrickle.relay.testing.PrivateRedisServer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.resps.StreamEntry;

class RedisTargetIT {
    private static final String SHARED = "redis://127.0.0.1:6379";
    private static final String TABLE = "orders";

    private String prefix;
    private RedisClient admin;

    @BeforeEach
    void names() {
        prefix = "pgtit:" + Changes.suffix();
        admin = RedisClient.create("127.0.0.1", 6379);
    }

    @AfterEach
    void cleanUp() {
        for (String key : admin.keys(prefix + ":*")) {
            admin.del(key);
        }
        admin.close();
    }

    private Template key(boolean perOp) {
        return new Template(prefix + ":{stream_table}" + (perOp ? ":{op}" : ""));
    }

    private SinkConfig.Redis sink(String url, Template key, Long maxlen) {
        return new SinkConfig.Redis(new RedisEndpoint(url, null, null), key, maxlen);
    }

    @Test
    void eachChangeIsOneEntryWithAnIdFromItsPositionInOrder() throws Exception {
        try (RedisTarget target = new RedisTarget(sink(SHARED, key(false), null), TABLE)) {
            target.open();
            assertThat(target.lastPublished()).isEmpty();
            assertThat(target.publish(Changes.range(TABLE, key(false), 0, 10))).isEqualTo(new PublishResult(10, 0));
        }
        List<StreamEntry> entries = admin.xrange(prefix + ":orders", "-", "+");
        assertThat(entries).hasSize(10);
        for (int n = 0; n < 10; n++) {
            OutboundMessage sent = Changes.change(TABLE, key(false), n);
            StreamEntry e = entries.get(n);
            assertThat(e.getID().toString()).isEqualTo(sent.position().offset() + "-" + (sent.position().rowIndex() + 1));
            assertThat(e.getFields()).containsEntry("key", sent.message().key())
                    .containsEntry("value", sent.message().value())
                    .containsEntry(Headers.DEDUP_KEY, sent.dedupKey())
                    .containsEntry(Headers.POSITION, sent.position().toString())
                    .containsEntry(Headers.OP, Template.OPS.get(n % 3));
        }
    }

    @Test
    void repeatsAreRefusedByRedisAndCountedAsDeduplicated() throws Exception {
        List<OutboundMessage> batch = Changes.range(TABLE, key(false), 0, 9);
        try (RedisTarget target = new RedisTarget(sink(SHARED, key(false), null), TABLE)) {
            target.open();
            assertThat(target.publish(batch)).isEqualTo(new PublishResult(9, 0));
            assertThat(target.publish(batch)).isEqualTo(new PublishResult(0, 9));
            assertThat(target.publish(Changes.range(TABLE, key(false), 7, 12))).isEqualTo(new PublishResult(3, 2));
        }
        assertThat(admin.xlen(prefix + ":orders")).isEqualTo(12);
    }

    @Test
    void lastPublishedIsTheHighestOverTheKeysAndSurvivesTrimming() throws Exception {
        try (RedisTarget target = new RedisTarget(sink(SHARED, key(true), null), TABLE)) {
            target.open();
            target.publish(Changes.range(TABLE, key(true), 0, 8)); // 7, the last, goes to the update key
        }
        for (String op : Template.OPS) {
            admin.xtrim(prefix + ":orders:" + op, 0, false);
        }
        assertThat(admin.xlen(prefix + ":orders:update")).isZero();
        try (RedisTarget again = new RedisTarget(sink(SHARED, key(true), null), TABLE)) {
            again.open();
            assertThat(again.lastPublished()).contains(Changes.position(7));
            // Trimmed entries are still refused as repeats: the stream's last id did not go down.
            assertThat(again.publish(Changes.range(TABLE, key(true), 6, 9))).isEqualTo(new PublishResult(1, 2));
        }
    }

    @Test
    void maxlenTrimsTheStream() throws Exception {
        try (RedisTarget target = new RedisTarget(sink(SHARED, key(false), 10L), TABLE)) {
            target.open();
            target.publish(Changes.range(TABLE, key(false), 0, 1000));
        }
        assertThat(admin.xlen(prefix + ":orders")).isLessThan(1000).isGreaterThanOrEqualTo(10);
    }

    @Test
    void aKeyHoldingAnotherTypeIsANonRetriableErrorNamingTheKey() throws Exception {
        admin.set(prefix + ":orders", "not a stream");
        try (RedisTarget target = new RedisTarget(sink(SHARED, key(false), null), TABLE)) {
            target.open();
            assertThatThrownBy(() -> target.publish(Changes.range(TABLE, key(false), 0, 2)))
                    .isInstanceOfSatisfying(TargetException.class, e -> assertThat(e.retriable()).isFalse())
                    .hasMessageContaining(prefix + ":orders").hasMessageContaining("WRONGTYPE");
        }
    }

    @Test
    void anUnreachableServerIsARetriableErrorNamingTheUrl() {
        int port;
        try (PrivateRedisServer neverStarted = new PrivateRedisServer(false)) {
            port = neverStarted.port();
        }
        String url = "redis://127.0.0.1:" + port;
        try (RedisTarget target = new RedisTarget(sink(url, key(false), null), TABLE, Duration.ofSeconds(2))) {
            assertThatThrownBy(target::open).isInstanceOfSatisfying(TargetException.class,
                    e -> assertThat(e.retriable()).isTrue()).hasMessageContaining(url);
        }
    }

    @Test
    void aServerKilledMidStreamIsRetriableAndANewTargetResumesSoEveryChangeArrivesOnceInOrder() throws Exception {
        int total = 5000;
        try (PrivateRedisServer server = PrivateRedisServer.started(true)) {
            SinkConfig.Redis sink = sink(server.url(), key(true), null);
            AtomicInteger sent = new AtomicInteger();
            RedisTarget first = new RedisTarget(sink, TABLE, Duration.ofSeconds(2));
            first.open();
            CompletableFuture<TargetException> failure = CompletableFuture.supplyAsync(() -> {
                try {
                    while (sent.get() < total) {
                        int from = sent.get();
                        first.publish(Changes.range(TABLE, key(true), from, Math.min(total, from + 50)));
                        sent.set(Math.min(total, from + 50));
                    }
                    return null;
                } catch (TargetException e) {
                    return e;
                }
            });
            Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> sent.get() >= 500 || failure.isDone());
            server.stop(true);
            TargetException e = failure.get(20, TimeUnit.SECONDS);
            first.close();
            assertThat(e).as("the publisher saw the server go away").isNotNull();
            assertThat(e.retriable()).isTrue();
            assertThat(sent.get()).isLessThan(total);

            server.start();
            RedisTarget second = new RedisTarget(sink, TABLE, Duration.ofSeconds(2));
            Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                    .until(() -> {
                        second.close();
                        second.open();
                        return true;
                    });
            OutboxPosition last = second.lastPublished().orElseThrow();
            int resume = Changes.number(last) + 1;
            assertThat(resume).isGreaterThanOrEqualTo(sent.get());
            second.publish(Changes.range(TABLE, key(true), resume, total));
            second.close();

            try (RedisClient c = RedisClient.create(server.url())) {
                int count = 0;
                for (String op : Template.OPS) {
                    List<StreamEntry> entries = c.xrange(prefix + ":orders:" + op, "-", "+");
                    for (int i = 0; i < entries.size(); i++) {
                        // The op's changes are every third one: i-th entry of op k is change 3i + k.
                        int n = 3 * i + Template.OPS.indexOf(op);
                        assertThat(entries.get(i).getFields().get(Headers.POSITION))
                                .as("entry %d of %s", i, op).isEqualTo(Changes.position(n).toString());
                    }
                    count += entries.size();
                }
                assertThat(count).isEqualTo(total);
            }
        }
    }
}
