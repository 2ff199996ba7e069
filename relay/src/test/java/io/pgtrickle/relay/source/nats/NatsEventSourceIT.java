package io.pgtrickle.relay.source.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.PublishOptions;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.pgtrickle.relay.config.NatsEndpoint;
import io.pgtrickle.relay.config.SourceConfig;
import io.pgtrickle.relay.source.InboundMessage;
import io.pgtrickle.relay.source.SourceException;
import io.pgtrickle.relay.testing.Changes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class NatsEventSourceIT {
    private static final String SHARED = "nats://127.0.0.1:4222";

    private String stream;
    private String subject;
    private Connection admin;

    @BeforeEach
    void stream() throws Exception {
        String s = Changes.suffix();
        stream = "PGT_SRC_" + s;
        subject = "pgtsrc_" + s + ".events";
        admin = Nats.connect(SHARED);
        admin.jetStreamManagement().addStream(StreamConfiguration.builder().name(stream).subjects(subject)
                .storageType(StorageType.Memory).build());
        for (int i = 1; i <= 5; i++) {
            Headers h = new Headers().put("event_type", "created");
            admin.jetStream().publish(subject, h, ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8),
                    PublishOptions.builder().messageId("event-" + i).build());
        }
    }

    @AfterEach
    void cleanUp() throws Exception {
        admin.jetStreamManagement().deleteStream(stream);
        admin.close();
    }

    private SourceConfig.Nats config() {
        return new SourceConfig.Nats(new NatsEndpoint(SHARED, null, null, null), stream, subject, "relay");
    }

    private static List<InboundMessage> pollAll(NatsEventSource source, int max) throws SourceException {
        List<InboundMessage> all = new ArrayList<>();
        for (List<InboundMessage> b = source.poll(max, Duration.ofSeconds(1)); !b.isEmpty();
                b = source.poll(max, Duration.ofMillis(300))) {
            all.addAll(b);
        }
        return all;
    }

    @Test
    void readsEachMessageWithItsStreamSequenceCoordinatesAndHeaders() throws Exception {
        try (NatsEventSource source = new NatsEventSource(config())) {
            source.open(Map.of());
            List<InboundMessage> read = pollAll(source, 10);
            assertThat(read).hasSize(5);
            InboundMessage first = read.get(0);
            assertThat(first.source()).isEqualTo(subject);
            assertThat(first.partition()).isEqualTo(stream);
            assertThat(first.position()).isEqualTo("1");
            assertThat(first.coordinates()).isEqualTo("nats:" + stream + "/1");
            assertThat(first.headers()).containsEntry("Nats-Msg-Id", "event-1").containsEntry("event_type", "created");
            assertThat(new String(first.value(), StandardCharsets.UTF_8)).isEqualTo("{\"n\":1}");
            assertThat(first.timestamp()).isNotNull();
            assertThat(read).extracting(InboundMessage::position).containsExactly("1", "2", "3", "4", "5");
        }
        assertThat(admin.jetStreamManagement().getConsumerInfo(stream, "relay").getConsumerConfiguration()
                .getFilterSubject()).isEqualTo(subject);
    }

    @Test
    void afterARestartUnacknowledgedMessagesComeAgainAndAcknowledgedOnesDoNot() throws Exception {
        try (NatsEventSource source = new NatsEventSource(config())) {
            source.open(Map.of());
            List<InboundMessage> read = pollAll(source, 10);
            source.acknowledge(read.subList(0, 3));
        }
        try (NatsEventSource again = new NatsEventSource(config())) {
            again.open(Map.of());
            List<InboundMessage> read = pollAll(again, 10);
            assertThat(read).extracting(InboundMessage::position).containsExactly("4", "5");
            again.acknowledge(read);
        }
        try (NatsEventSource third = new NatsEventSource(config())) {
            third.open(Map.of());
            assertThat(pollAll(third, 10)).isEmpty();
        }
        assertThat(admin.jetStreamManagement().getConsumerInfo(stream, "relay").getAckFloor().getStreamSequence())
                .isEqualTo(5);
    }

    @Test
    void aReaderThatDiesWithoutClosingHasItsUnacknowledgedMessagesRedeliveredAfterTheAckWait() throws Exception {
        NatsEventSource dead = new NatsEventSource(config(), Duration.ofSeconds(5), Duration.ofSeconds(1));
        try {
            dead.open(Map.of());
            List<InboundMessage> read = pollAll(dead, 10);
            dead.acknowledge(read.subList(0, 2));
            // dead is never closed (no nak): JetStream only knows the ack wait passed.
            try (NatsEventSource next = new NatsEventSource(config())) {
                next.open(Map.of());
                Thread.sleep(1500);
                // One poll of three, acked at once: left unacked, the short ack wait would redeliver them again.
                List<InboundMessage> redelivered = next.poll(3, Duration.ofSeconds(3));
                next.acknowledge(redelivered);
                assertThat(redelivered).extracting(InboundMessage::position).containsExactly("3", "4", "5");
                assertThat(next.poll(10, Duration.ofMillis(1500))).isEmpty();
            }
        } finally {
            dead.close();
        }
    }

    @Test
    void aMissingStreamIsANonRetriableErrorNamingIt() {
        SourceConfig.Nats missing = new SourceConfig.Nats(new NatsEndpoint(SHARED, null, null, null), stream + "_NO",
                subject, "relay");
        try (NatsEventSource source = new NatsEventSource(missing)) {
            assertThatThrownBy(() -> source.open(Map.of())).isInstanceOfSatisfying(SourceException.class,
                    e -> assertThat(e.retriable()).isFalse()).hasMessageContaining(stream + "_NO");
        }
    }
}
