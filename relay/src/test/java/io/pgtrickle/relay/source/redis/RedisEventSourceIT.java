package io.pgtrickle.relay.source.redis;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrickle.relay.config.RedisEndpoint;
import io.pgtrickle.relay.config.SourceConfig;
import io.pgtrickle.relay.source.InboundMessage;
import io.pgtrickle.relay.source.SourceException;
import io.pgtrickle.relay.testing.Changes;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;

class RedisEventSourceIT {
    private String key;
    private RedisClient admin;

    @BeforeEach
    void stream() {
        key = "pgtsrc:" + Changes.suffix();
        admin = RedisClient.create("127.0.0.1", 6379);
    }

    @AfterEach
    void cleanUp() {
        admin.del(key);
        admin.close();
    }

    private SourceConfig.Redis config() {
        return new SourceConfig.Redis(new RedisEndpoint("redis://127.0.0.1:6379", null, null), key, "relay", "c1");
    }

    private StreamEntryID add(int n) {
        Map<String, String> fields = new LinkedHashMap<>();
        fields.put("key", "k" + n);
        fields.put("value", "{\"n\":" + n + "}");
        fields.put("event_id", "e" + n);
        return admin.xadd(key, StreamEntryID.NEW_ENTRY, fields);
    }

    private static List<InboundMessage> pollAll(RedisEventSource source) throws SourceException {
        List<InboundMessage> all = new ArrayList<>();
        for (List<InboundMessage> b = source.poll(2, Duration.ofMillis(300)); !b.isEmpty();
                b = source.poll(2, Duration.ofMillis(300))) {
            all.addAll(b);
        }
        return all;
    }

    @Test
    void createsTheGroupAndReadsValueKeyAndHeadersWithEntryIdCoordinates() throws Exception {
        try (RedisEventSource source = new RedisEventSource(config())) {
            source.open(Map.of());
            StreamEntryID id = add(1);
            List<InboundMessage> read = pollAll(source);
            assertThat(read).hasSize(1);
            InboundMessage m = read.get(0);
            assertThat(m.source()).isEqualTo(key);
            assertThat(m.partition()).isEqualTo(key);
            assertThat(m.position()).isEqualTo(id.toString());
            assertThat(m.coordinates()).isEqualTo("redis:" + key + "/" + id);
            assertThat(new String(m.key(), StandardCharsets.UTF_8)).isEqualTo("k1");
            assertThat(new String(m.value(), StandardCharsets.UTF_8)).isEqualTo("{\"n\":1}");
            assertThat(m.headers()).isEqualTo(Map.of("event_id", "e1"));
        }
    }

    @Test
    void anEntryWithoutAValueFieldIsReadAsAJsonObjectOfItsFields() throws Exception {
        admin.xadd(key, StreamEntryID.NEW_ENTRY, Map.of("order", "42", "status", "paid"));
        try (RedisEventSource source = new RedisEventSource(config())) {
            source.open(Map.of());
            InboundMessage m = pollAll(source).get(0);
            assertThat(new ObjectMapper().readValue(m.value(), Map.class)).isEqualTo(Map.of("order", "42", "status", "paid"));
            assertThat(m.key()).isNull();
        }
    }

    @Test
    void afterARestartPendingEntriesComeFirstThenNewOnesAndAcknowledgedOnesNever() throws Exception {
        for (int n = 1; n <= 5; n++) {
            add(n);
        }
        try (RedisEventSource source = new RedisEventSource(config())) {
            source.open(Map.of());
            List<InboundMessage> read = pollAll(source);
            assertThat(read).hasSize(5);
            source.acknowledge(read.subList(0, 3));
        }
        add(6);
        try (RedisEventSource again = new RedisEventSource(config())) {
            again.open(Map.of());
            List<InboundMessage> read = pollAll(again);
            assertThat(read).extracting(m -> new String(m.key(), StandardCharsets.UTF_8)).containsExactly("k4", "k5", "k6");
            again.acknowledge(read);
        }
        assertThat(admin.xpending(key, "relay").getTotal()).isZero();
        try (RedisEventSource third = new RedisEventSource(config())) {
            third.open(Map.of());
            assertThat(pollAll(third)).isEmpty();
        }
    }
}
