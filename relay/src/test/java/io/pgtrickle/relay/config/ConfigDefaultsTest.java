package io.pgtrickle.relay.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.format.FieldRule;
import io.pgtrickle.format.FormatName;
import io.pgtrickle.format.Template;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a key left out of relay.toml becomes. */
class ConfigDefaultsTest {

    private static RelayConfig parse(String toml) {
        return ConfigLoader.parse(toml, "relay.toml", Map.of());
    }

    @Test
    void topLevelAndEngineKeysHaveTheirDocumentedDefaults() {
        RelayConfig c = parse("postgres_url = \"postgresql://app@db:5432/app\"\n");
        assertThat(c.metricsAddr()).isEqualTo("127.0.0.1:9464");
        assertThat(c.logLevel()).isEqualTo("info");
        assertThat(c.logFormat()).isEqualTo("text");
        assertThat(c.relayGroupId()).isEqualTo("default");
        assertThat(c.postgresPassword()).isNull();
        assertThat(c.engine()).isEqualTo(new EngineSettings(false, false, Path.of("pgtrickle-data"), 0, "pgtrickle_slot"));
        assertThat(c.streamTables()).isEmpty();
        assertThat(c.pipelines()).isEmpty();
    }

    @Test
    void embeddedEngineNeedsNoPostgresUrl() {
        RelayConfig c = parse("[engine]\nembedded = true\nport = 5544\n");
        assertThat(c.postgresUrl()).isNull();
        assertThat(c.engine().hosted()).isTrue();
        assertThat(c.engine().port()).isEqualTo(5544);
    }

    @Test
    void streamTableDefaults() {
        RelayConfig c = parse("[engine]\nembedded = true\n[[stream_table]]\nname = \"s\"\nquery = \"SELECT 1 AS x\"\n");
        assertThat(c.streamTables()).containsExactly(new StreamTableConfig("s", "SELECT 1 AS x", "1s", "AUTO", 24, 100));
    }

    @Test
    void forwardPipelineAndKafkaSinkDefaults() {
        RelayConfig c = parse("postgres_url = \"jdbc:postgresql://db/app\"\nrelay_group_id = \"eu\"\n"
                + "[[pipeline]]\nname = \"orders\"\ndirection = \"forward\"\n"
                + "[pipeline.source]\nstream_table = \"orders\"\n"
                + "[pipeline.sink]\ntype = \"kafka\"\nbootstrap_servers = \"k:9092\"\n");
        PipelineConfig p = c.pipelines().get(0);
        assertThat(p.enabled()).isTrue();
        assertThat(p.format()).isEqualTo(FormatName.NATIVE);
        assertThat(p.batchSize()).isEqualTo(500);
        assertThat(p.retryInitialBackoff()).isEqualTo(Duration.ofMillis(500));
        assertThat(p.retryMaxBackoff()).isEqualTo(Duration.ofSeconds(30));
        assertThat(p.source()).isEqualTo(new SourceConfig.StreamTable("orders"));
        assertThat(p.sink()).isEqualTo(new SinkConfig.Kafka(new KafkaEndpoint("k:9092", Map.of()),
                new Template("pgtrickle.{stream_table}"), "pgtrickle-relay.eu.orders"));
    }

    @Test
    void natsAndRedisSinkDefaults() {
        RelayConfig c = parse("postgres_url = \"jdbc:postgresql://db/app\"\n"
                + "[[pipeline]]\nname = \"n\"\ndirection = \"forward\"\n[pipeline.source]\nstream_table = \"s\"\n"
                + "[pipeline.sink]\ntype = \"nats\"\nstream = \"S\"\n"
                + "[[pipeline]]\nname = \"r\"\ndirection = \"forward\"\n[pipeline.source]\nstream_table = \"s\"\n"
                + "[pipeline.sink]\ntype = \"redis\"\n");
        assertThat(c.pipelines().get(0).sink()).isEqualTo(new SinkConfig.Nats(
                new NatsEndpoint("nats://127.0.0.1:4222", null, null, null), "S",
                new Template("pgtrickle.{stream_table}.{op}"), Duration.ofMinutes(2), true));
        assertThat(c.pipelines().get(1).sink()).isEqualTo(new SinkConfig.Redis(
                new RedisEndpoint("redis://127.0.0.1:6379", null, null), new Template("pgtrickle:{stream_table}"), null));
    }

    @Test
    void reverseSourcesAndInboxDefaults() {
        RelayConfig c = parse("postgres_url = \"jdbc:postgresql://db/app\"\n"
                + "[[pipeline]]\nname = \"from-nats\"\ndirection = \"reverse\"\n"
                + "[pipeline.source]\ntype = \"nats\"\nstream = \"ORDERS\"\n[pipeline.sink]\ninbox = \"i\"\n"
                + "[[pipeline]]\nname = \"from-redis\"\ndirection = \"reverse\"\n"
                + "[pipeline.source]\ntype = \"redis\"\nstream_key = \"orders\"\n[pipeline.sink]\ninbox = \"i\"\n"
                + "event_type = \"header:type\"\naggregate_id = \"field:order.id\"\n");
        PipelineConfig nats = c.pipelines().get(0);
        assertThat(nats.format()).isNull();
        assertThat(nats.source()).isEqualTo(new SourceConfig.Nats(
                new NatsEndpoint("nats://127.0.0.1:4222", null, null, null), "ORDERS", ">", "pgtrickle-from-nats"));
        assertThat(nats.sink()).isEqualTo(new SinkConfig.Inbox("i", FieldRule.COORDINATES, null, null));
        PipelineConfig redis = c.pipelines().get(1);
        assertThat(redis.source()).isEqualTo(new SourceConfig.Redis(
                new RedisEndpoint("redis://127.0.0.1:6379", null, null), "orders", "pgtrickle", "pgtrickle-from-redis"));
        assertThat(redis.sink()).isEqualTo(new SinkConfig.Inbox("i", FieldRule.COORDINATES,
                new FieldRule(FieldRule.Kind.HEADER, "type"), new FieldRule(FieldRule.Kind.FIELD, "order.id")));
    }

    @Test
    void givenValuesOverrideTheDefaults() {
        RelayConfig c = parse("postgres_url = \"jdbc:postgresql://db/app\"\nlog_level = \"DEBUG\"\n"
                + "[[pipeline]]\nname = \"p\"\ndirection = \"forward\"\nformat = \"debezium\"\nbatch_size = 100000\n"
                + "retry_initial_backoff = \"250ms\"\nretry_max_backoff = \"1h\"\nenabled = false\n"
                + "[pipeline.source]\nstream_table = \"s\"\n[pipeline.sink]\ntype = \"redis\"\nmaxlen = 10000\n");
        PipelineConfig p = c.pipelines().get(0);
        assertThat(c.logLevel()).isEqualTo("debug");
        assertThat(p.enabled()).isFalse();
        assertThat(p.format()).isEqualTo(FormatName.DEBEZIUM);
        assertThat(p.batchSize()).isEqualTo(100_000);
        assertThat(p.retryInitialBackoff()).isEqualTo(Duration.ofMillis(250));
        assertThat(p.retryMaxBackoff()).isEqualTo(Duration.ofHours(1));
        assertThat(((SinkConfig.Redis) p.sink()).maxlen()).isEqualTo(10_000L);
    }
}
