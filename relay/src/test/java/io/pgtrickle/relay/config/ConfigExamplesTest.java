package io.pgtrickle.relay.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.format.FormatName;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Every file in config-examples/ loads, with the environment variables it references. */
class ConfigExamplesTest {
    private static final Path DIR = Path.of("..", "config-examples");
    private static final Map<String, String> ENV = Map.of("PGPASSWORD", "pg-pw", "NATS_TOKEN", "nats-token",
            "NATS_PASSWORD", "nats-pw", "REDIS_PASSWORD", "redis-pw");

    private static RelayConfig load(String name) {
        return ConfigLoader.load(DIR.resolve(name), ENV);
    }

    @Test
    void kafkaExampleLoadsWithItsJaasFile() {
        RelayConfig c = load("relay-kafka.toml");
        assertThat(c.postgresPassword().reveal()).isEqualTo("pg-pw");
        assertThat(c.pipelines()).extracting(PipelineConfig::format).containsExactly(FormatName.NATIVE, FormatName.DEBEZIUM);
        SinkConfig.Kafka sink = (SinkConfig.Kafka) c.pipelines().get(1).sink();
        assertThat(sink.endpoint().properties().get("sasl.jaas.config").reveal())
                .startsWith("org.apache.kafka.common.security.plain.PlainLoginModule").doesNotEndWith("\n");
    }

    @Test
    void natsExampleLoads() {
        SinkConfig.Nats sink = (SinkConfig.Nats) load("relay-nats.toml").pipelines().get(0).sink();
        assertThat(sink.endpoint().token().reveal()).isEqualTo("nats-token");
        assertThat(sink.subject().usesOp()).isTrue();
    }

    @Test
    void redisExampleLoads() {
        SinkConfig.Redis sink = (SinkConfig.Redis) load("relay-redis.toml").pipelines().get(0).sink();
        assertThat(sink.maxlen()).isEqualTo(100_000L);
        assertThat(sink.endpoint().password().reveal()).isEqualTo("redis-pw");
    }

    @Test
    void stdoutEmbeddedExampleNeedsNoPostgresUrl() {
        RelayConfig c = load("relay-stdout-embedded.toml");
        assertThat(c.postgresUrl()).isNull();
        assertThat(c.engine().embedded()).isTrue();
        assertThat(c.streamTables()).extracting(StreamTableConfig::name).containsExactly("order_totals");
        assertThat(c.pipelines().get(0).sink()).isInstanceOf(SinkConfig.Stdout.class);
    }

    @Test
    void reverseExampleFillsThreeInboxes() {
        RelayConfig c = load("relay-reverse.toml");
        assertThat(c.pipelines()).extracting(p -> p.source().getClass().getSimpleName())
                .isEqualTo(List.of("Kafka", "Nats", "Redis"));
        assertThat(c.pipelines()).extracting(p -> ((SinkConfig.Inbox) p.sink()).inbox())
                .containsExactly("payments_inbox", "shipments_inbox", "returns_inbox");
    }
}
