package io.pgtrickle.relay.target.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nats.client.Connection;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.format.Headers;
import io.pgtrickle.format.Template;
import io.pgtrickle.relay.config.NatsEndpoint;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.target.OutboundMessage;
import io.pgtrickle.relay.target.PublishResult;
import io.pgtrickle.relay.target.TargetException;
import io.pgtrickle.relay.testing.Changes;
import io.pgtrickle.relay.testing.PrivateNatsServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NatsTargetIT {
    private static final String SHARED = "nats://127.0.0.1:4222";
    private static final String TABLE = "orders";

    private String stream;
    private String prefix;
    private Connection admin;

    @BeforeEach
    void names() throws Exception {
        String s = Changes.suffix();
        stream = "PGT_IT_" + s;
        prefix = "pgtit_" + s;
        admin = Nats.connect(SHARED);
    }

    @AfterEach
    void cleanUp() throws Exception {
        try {
            admin.jetStreamManagement().deleteStream(stream);
        } catch (Exception absent) {
            // the test did not create it
        }
        admin.close();
    }

    private SinkConfig.Nats sink(String url, Duration window, boolean create) {
        return new SinkConfig.Nats(new NatsEndpoint(url, null, null, null), stream,
                new Template(prefix + ".{stream_table}.{op}"), window, create);
    }

    private Template subject() {
        return new Template(prefix + ".{stream_table}.{op}");
    }

    @Test
    void createsTheStreamAndAConsumerSeesEveryMessageOnceWithItsHeaders() throws Exception {
        try (NatsTarget target = new NatsTarget(sink(SHARED, Duration.ofMinutes(2), true), TABLE)) {
            target.open();
            assertThat(target.lastPublished()).isEmpty();
            PublishResult result = target.publish(Changes.range(TABLE, subject(), 0, 9));
            assertThat(result).isEqualTo(new PublishResult(9, 0));
        }
        StreamConfiguration created = admin.jetStreamManagement().getStreamInfo(stream).getConfiguration();
        assertThat(created.getSubjects()).containsExactly(prefix + ".orders.*");
        assertThat(created.getStorageType()).isEqualTo(StorageType.File);
        assertThat(created.getDuplicateWindow()).isEqualTo(Duration.ofMinutes(2));

        List<Message> seen = readAll(admin, stream, prefix + ".>");
        assertThat(seen).hasSize(9);
        for (int n = 0; n < 9; n++) {
            OutboundMessage sent = Changes.change(TABLE, subject(), n);
            Message m = seen.get(n);
            assertThat(m.getSubject()).isEqualTo(sent.destination());
            assertThat(new String(m.getData())).isEqualTo(sent.message().value());
            assertThat(m.getHeaders().getFirst("Nats-Msg-Id")).isEqualTo(sent.dedupKey());
            assertThat(m.getHeaders().getFirst(Headers.POSITION)).isEqualTo(sent.position().toString());
            assertThat(m.getHeaders().getFirst(Headers.DEDUP_KEY)).isEqualTo(sent.dedupKey());
            assertThat(m.getHeaders().getFirst(Headers.OP)).isEqualTo(Template.OPS.get(n % 3));
        }
    }

    @Test
    void publishingTheSameBatchAgainIsAllDeduplicatedByTheServer() throws Exception {
        List<OutboundMessage> batch = Changes.range(TABLE, subject(), 0, 12);
        try (NatsTarget target = new NatsTarget(sink(SHARED, Duration.ofMinutes(2), true), TABLE)) {
            target.open();
            assertThat(target.publish(batch)).isEqualTo(new PublishResult(12, 0));
            assertThat(target.publish(batch)).isEqualTo(new PublishResult(0, 12));
            assertThat(target.publish(Changes.range(TABLE, subject(), 10, 14))).isEqualTo(new PublishResult(2, 2));
        }
        assertThat(admin.jetStreamManagement().getStreamInfo(stream).getStreamState().getMsgCount()).isEqualTo(14);
    }

    @Test
    void lastPublishedAfterReopenIsTheHighestPositionOverEverySubject() throws Exception {
        try (NatsTarget target = new NatsTarget(sink(SHARED, Duration.ofMinutes(2), true), TABLE)) {
            target.open();
            target.publish(Changes.range(TABLE, subject(), 0, 8)); // the last one, 7, is an update
        }
        try (NatsTarget again = new NatsTarget(sink(SHARED, Duration.ofMinutes(2), false), TABLE)) {
            again.open();
            assertThat(again.lastPublished()).contains(Changes.position(7));
        }
    }

    @Test
    void anExistingStreamWithAShorterDuplicateWindowIsRefusedWithBothValuesAndTheFix() throws Exception {
        admin.jetStreamManagement().addStream(StreamConfiguration.builder().name(stream).subjects(prefix + ".>")
                .storageType(StorageType.Memory).duplicateWindow(Duration.ofSeconds(30)).build());
        try (NatsTarget target = new NatsTarget(sink(SHARED, Duration.ofMinutes(5), true), TABLE)) {
            assertThatThrownBy(target::open).isInstanceOfSatisfying(TargetException.class,
                    e -> assertThat(e.retriable()).isFalse())
                    .hasMessageContaining(stream).hasMessageContaining("PT30S").hasMessageContaining("PT5M")
                    .hasMessageContaining("raise the stream's duplicate window").hasMessageContaining("lower duplicate_window");
        }
        // A window at least as long is accepted.
        try (NatsTarget target = new NatsTarget(sink(SHARED, Duration.ofSeconds(30), false), TABLE)) {
            target.open();
        }
    }

    @Test
    void anExistingStreamThatDoesNotTakeTheSubjectsIsRefusedNamingTheSubject() throws Exception {
        admin.jetStreamManagement().addStream(StreamConfiguration.builder().name(stream).subjects(prefix + ".other.*")
                .storageType(StorageType.Memory).duplicateWindow(Duration.ofMinutes(2)).build());
        try (NatsTarget target = new NatsTarget(sink(SHARED, Duration.ofMinutes(2), true), TABLE)) {
            assertThatThrownBy(target::open).isInstanceOfSatisfying(TargetException.class,
                    e -> assertThat(e.retriable()).isFalse())
                    .hasMessageContaining(prefix + ".orders.insert").hasMessageContaining(stream);
        }
    }

    @Test
    void aMissingStreamWithoutCreateStreamIsRefusedNamingTheStreamAndTheFix() {
        try (NatsTarget target = new NatsTarget(sink(SHARED, Duration.ofMinutes(2), false), TABLE)) {
            assertThatThrownBy(target::open).isInstanceOfSatisfying(TargetException.class,
                    e -> assertThat(e.retriable()).isFalse())
                    .hasMessageContaining(stream).hasMessageContaining("create_stream = true");
        }
    }

    @Test
    void anUnreachableServerIsARetriableErrorNamingTheUrl() throws Exception {
        int port;
        try (PrivateNatsServer neverStarted = new PrivateNatsServer()) {
            port = neverStarted.port();
        }
        String url = "nats://127.0.0.1:" + port;
        try (NatsTarget target = new NatsTarget(sink(url, Duration.ofMinutes(2), true), TABLE, Duration.ofSeconds(2))) {
            assertThatThrownBy(target::open).isInstanceOfSatisfying(TargetException.class,
                    e -> assertThat(e.retriable()).isTrue()).hasMessageContaining(url);
        }
    }

    @Test
    void aServerKilledMidStreamIsRetriableAndANewTargetResumesSoEveryChangeArrivesOnceInOrder() throws Exception {
        int total = 3000;
        try (PrivateNatsServer server = PrivateNatsServer.started()) {
            SinkConfig.Nats sink = sink(server.url(), Duration.ofMinutes(2), true);
            AtomicInteger sent = new AtomicInteger();
            NatsTarget first = new NatsTarget(sink, TABLE, Duration.ofSeconds(2));
            first.open();
            CompletableFuture<TargetException> failure = CompletableFuture.supplyAsync(() -> {
                try {
                    while (sent.get() < total) {
                        int from = sent.get();
                        first.publish(Changes.range(TABLE, subject(), from, Math.min(total, from + 50)));
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
            NatsTarget second = new NatsTarget(sink, TABLE, Duration.ofSeconds(2));
            // JetStream recovers its store after the port opens: retry open like the pipeline does.
            Awaitility.await().atMost(Duration.ofSeconds(20)).pollInterval(Duration.ofMillis(200)).ignoreExceptions()
                    .until(() -> {
                        second.close();
                        second.open();
                        return true;
                    });
            OutboxPosition last = second.lastPublished().orElseThrow();
            int resume = Changes.number(last) + 1;
            assertThat(resume).isGreaterThanOrEqualTo(sent.get());
            second.publish(Changes.range(TABLE, subject(), resume, total));
            second.close();

            try (Connection c = Nats.connect(server.url())) {
                List<Message> seen = readAll(c, stream, prefix + ".>");
                List<String> positions = new ArrayList<>();
                seen.forEach(m -> positions.add(m.getHeaders().getFirst(Headers.POSITION)));
                List<String> expected = new ArrayList<>();
                for (int n = 0; n < total; n++) {
                    expected.add(Changes.position(n).toString());
                }
                assertThat(positions).containsExactlyElementsOf(expected);
            }
        }
    }

    /** Every message of the stream matching {@code filter}, through an ordered push consumer of its own. */
    static List<Message> readAll(Connection c, String stream, String filter) throws Exception {
        JetStreamSubscription sub = c.jetStream().subscribe(filter,
                PushSubscribeOptions.builder().stream(stream).ordered(true).build());
        List<Message> out = new ArrayList<>();
        try {
            for (Message m = sub.nextMessage(Duration.ofSeconds(2)); m != null; m = sub.nextMessage(Duration.ofMillis(500))) {
                out.add(m);
            }
        } finally {
            sub.unsubscribe();
        }
        return out;
    }
}
