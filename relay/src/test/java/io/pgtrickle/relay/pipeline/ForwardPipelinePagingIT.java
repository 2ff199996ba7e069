package io.pgtrickle.relay.pipeline;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.outbox.ConsumerGroups;
import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.format.FormatName;
import io.pgtrickle.format.Headers;
import io.pgtrickle.format.MessageFormat;
import io.pgtrickle.format.Template;
import io.pgtrickle.relay.config.RedisEndpoint;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.metrics.PipelineMetrics;
import io.pgtrickle.relay.target.redis.RedisTarget;
import io.pgtrickle.relay.testing.Changes;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.resps.StreamEntry;

/**
 * A forward pipeline reads large outbox entries in pages: entries of several pages reach Redis
 * exactly once, in position order, and a session stopped in the middle of an entry is resumed by
 * the next one from the position Redis holds (its last entry id), not from the entry's start.
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class ForwardPipelinePagingIT {
    private static final String PIPELINE = "paging";
    private static final String GROUP = "relay:it/paging";
    private static final int BATCH = 500; // pages of 1,000 changes (the smallest page)

    private final TestDatabase db;
    private String key;
    private RedisClient admin;

    ForwardPipelinePagingIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void redis() {
        key = "pgtit:" + Changes.suffix() + ":paging";
        admin = RedisClient.create("127.0.0.1", 6379);
    }

    @AfterEach
    void cleanUp() {
        admin.del(key);
        admin.close();
    }

    private ForwardPipeline pipeline(PgTrickleEngine engine, MeterRegistry registry) {
        SinkConfig.Redis sink = new SinkConfig.Redis(new RedisEndpoint("redis://127.0.0.1:6379", null, null),
                new Template(key), null);
        return new ForwardPipeline(PIPELINE, "items_st", GROUP, engine.outboxes(), new ConsumerGroups(engine.dataSource()),
                () -> new RedisTarget(sink, "items_st"), MessageFormat.of(FormatName.NATIVE), e -> key, BATCH,
                new PipelineMetrics(registry, PIPELINE));
    }

    private static double count(MeterRegistry registry, String meter) {
        return registry.get(meter).tag("pipeline", PIPELINE).counter().count();
    }

    private long offset(int n) {
        return ((Number) db.value("SELECT outbox_offset FROM pgtrickle.pgt_outbox"
                + " WHERE stream_table = 'public.items_st' ORDER BY outbox_offset OFFSET ? LIMIT 1", n)).longValue();
    }

    private int rowCount(int n) {
        return ((Number) db.value("SELECT row_count FROM pgtrickle.pgt_outbox"
                + " WHERE stream_table = 'public.items_st' ORDER BY outbox_offset OFFSET ? LIMIT 1", n)).intValue();
    }

    @Test
    void entriesOfSeveralPagesArriveOnceInOrderAndAStoppedSessionResumesInsideTheEntry() throws Exception {
        db.execute("DROP TABLE IF EXISTS items CASCADE", "CREATE TABLE items (id int PRIMARY KEY, v int NOT NULL)",
                "INSERT INTO items SELECT g, g FROM generate_series(1, 2500) g");
        EngineConfig config = EngineConfig.of(db.jdbcUrl()).withCdcMode(CdcMode.TRIGGER)
                .withSlotName("pgtrickle_" + db.name());
        try (PgTrickleEngine engine = PgTrickleEngine.open(config)) {
            engine.streamTables().create(StreamTableSpec.parse("items_st", "SELECT id, v FROM items", "1h",
                    "DIFFERENTIAL"));
            engine.outboxes().enable("items_st"); // entry 1: 2,500 inserts in the side table
            ConsumerGroups groups = new ConsumerGroups(engine.dataSource());

            // Session 1 stops after its third batch: 1,500 changes, in the middle of entry 1's second page.
            MeterRegistry first = new SimpleMeterRegistry();
            BooleanSupplier belowHalf = () -> admin.xlen(key) < 1_500;
            pipeline(engine, first).run(belowHalf, () -> { });
            assertThat(admin.xlen(key)).isEqualTo(1_500);
            assertThat(count(first, "pgtrickle_relay_published")).isEqualTo(1_500);
            long entry1 = offset(0);
            assertThat(groups.lag(GROUP).committedOffset()).isLessThan(entry1); // entry 1 is not done

            // Entry 2: 1,200 rows changed, over a page (each a delete and an insert where row ids hash the row).
            db.execute("UPDATE items SET v = -v WHERE id <= 1200");
            engine.streamTables().refresh("items_st");
            db.execute("DELETE FROM items WHERE id > 2497"); // entry 3: 3 deletes, inline
            engine.streamTables().refresh("items_st");
            long entry3 = offset(2);
            int[] rows = {rowCount(0), rowCount(1), rowCount(2)};
            assertThat(rows[0]).isEqualTo(2_500);
            assertThat(rows[1]).isGreaterThanOrEqualTo(1_200);
            assertThat(rows[2]).isEqualTo(3);
            int total = rows[0] + rows[1] + rows[2];

            // Session 2 resumes after 1:1499 as Redis reports it and delivers the rest, nothing twice.
            MeterRegistry second = new SimpleMeterRegistry();
            AtomicBoolean stop = new AtomicBoolean();
            CompletableFuture<Void> session = CompletableFuture.runAsync(() -> {
                try {
                    pipeline(engine, second).run(() -> !stop.get(), () -> { });
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            await().atMost(Duration.ofSeconds(60)).until(() -> session.isDone()
                    || groups.lag(GROUP).committedOffset() == entry3);
            stop.set(true);
            session.get(30, TimeUnit.SECONDS);
            assertThat(count(second, "pgtrickle_relay_published")).isEqualTo(total - 1_500);
            assertThat(count(second, "pgtrickle_relay_deduplicated")).isZero();

            List<StreamEntry> stream = admin.xrange(key, "-", "+");
            List<String> expected = new ArrayList<>();
            for (int entry = 0; entry < 3; entry++) {
                long offset = offset(entry);
                for (int row = 0; row < rows[entry]; row++) {
                    expected.add(new OutboxPosition(offset, row).toString());
                }
            }
            assertThat(stream).extracting(e -> e.getFields().get(Headers.POSITION)).containsExactlyElementsOf(expected);
            assertThat(stream.subList(0, 2_500)).extracting(e -> e.getFields().get(Headers.OP)).containsOnly("insert");
            assertThat(stream.subList(total - 3, total)).extracting(e -> e.getFields().get(Headers.OP))
                    .containsOnly("delete");
            // Entry 1's change 1,500 is the first session 2 published: right after where session 1 stopped.
            assertThat(stream.get(1_500).getFields()).containsEntry(Headers.POSITION, entry1 + ":1500");
        }
    }
}
