package io.pgtrickle.connect.sink;

import io.pgtrickle.connect.testing.ConnectorJson;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.format.FieldRule;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;

class PgTrickleSinkConfigTest {
    private static Map<String, String> minimal() {
        Map<String, String> p = new HashMap<>();
        p.put("connection.url", "jdbc:postgresql://localhost:5432/app");
        p.put("inbox", "orders_inbox");
        return p;
    }

    @Test
    void defaults() {
        PgTrickleSinkConfig c = new PgTrickleSinkConfig(minimal());
        assertThat(c.url()).isEqualTo("jdbc:postgresql://localhost:5432/app");
        assertThat(c.user()).isNull();
        assertThat(c.password()).isNull();
        assertThat(c.inbox()).isEqualTo("orders_inbox");
        assertThat(c.retryBackoffMs()).isEqualTo(3000L);
        assertThat(c.rules().eventId()).containsExactly(FieldRule.COORDINATES);
        assertThat(c.rules().eventType()).isEmpty();
        assertThat(c.rules().aggregateId()).isEmpty();
    }

    @Test
    void explicitValues() {
        Map<String, String> p = minimal();
        p.put("connection.user", "app");
        p.put("connection.password", "s3cret");
        p.put("event.id", "header:id, field:meta.id,coordinates");
        p.put("event.type", "field:type");
        p.put("aggregate.id", "header:aggregate");
        p.put("retry.backoff.ms", "250");
        PgTrickleSinkConfig c = new PgTrickleSinkConfig(p);
        assertThat(c.user()).isEqualTo("app");
        assertThat(c.password()).isEqualTo("s3cret");
        assertThat(c.rules().eventId()).containsExactly(FieldRule.parse("header:id"), FieldRule.parse("field:meta.id"),
                FieldRule.COORDINATES);
        assertThat(c.rules().eventType()).containsExactly(FieldRule.parse("field:type"));
        assertThat(c.rules().aggregateId()).containsExactly(FieldRule.parse("header:aggregate"));
        assertThat(c.retryBackoffMs()).isEqualTo(250L);
    }

    @Test
    void thePasswordIsNeverShown() {
        Map<String, String> p = minimal();
        p.put("connection.password", "s3cret");
        PgTrickleSinkConfig c = new PgTrickleSinkConfig(p);
        assertThat(c.toString()).doesNotContain("s3cret");
        assertThat(c.values().get("connection.password").toString()).doesNotContain("s3cret");
    }

    @Test
    void requiredKeysAndBadValuesAreRejectedByName() {
        assertThat(errors(Map.of())).containsKeys("connection.url", "inbox");
        Map<String, String> p = minimal();
        p.put("connection.url", "jdbc:mysql://x/y");
        p.put("event.id", "key");
        p.put("event.type", "header:");
        p.put("retry.backoff.ms", "-1");
        Map<String, List<String>> errors = errors(p);
        assertThat(errors).containsOnlyKeys("connection.url", "event.id", "event.type", "retry.backoff.ms");
        assertThat(errors.get("event.id").get(0)).contains("header:<name>, field:<path> or coordinates");
        p = minimal();
        p.put("event.id", "");
        assertThat(errors(p)).containsOnlyKeys("event.id");
        assertThatThrownBy(() -> new PgTrickleSinkConfig(Map.of("inbox", "x"))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("connection.url");
    }

    @Test
    void theExamplesAreValidConfigurations() throws IOException {
        Path dir = Path.of("../config-examples/connect");
        Properties standalone = new Properties();
        try (Reader r = Files.newBufferedReader(dir.resolve("connector-sink.properties"))) {
            standalone.load(r);
        }
        Map<String, String> p = new HashMap<>();
        standalone.forEach((k, v) -> p.put((String) k, (String) v));
        assertThat(errors(p)).isEmpty();
        assertThat(p.get("connector.class")).isEqualTo(PgTrickleInboxSinkConnector.class.getName());
        PgTrickleSinkConfig c = new PgTrickleSinkConfig(p);
        assertThat(c.rules().eventId()).containsExactly(FieldRule.parse("header:id"), FieldRule.COORDINATES);

        ConnectorJson connector = ConnectorJson.read(dir.resolve("connector-sink.json"),
                Map.of("env:PGTRICKLE_CONNECTION_URL", "jdbc:postgresql://db:5432/app", "env:PGTRICKLE_CONNECTION_USER", "app",
                        "env:PGTRICKLE_CONNECTION_PASSWORD", "pw"));
        Map<String, String> json = connector.config();
        assertThat(errors(json)).isEmpty();
        assertThat(connector.name()).isEqualTo(p.remove("name"));
        for (String key : List.of("connection.url", "connection.user", "connection.password")) {
            p.remove(key);
            json.remove(key);
        }
        assertThat(json).as("the JSON and the properties say the same").isEqualTo(p);
    }

    private static Map<String, List<String>> errors(Map<String, String> props) {
        Map<String, List<String>> out = new HashMap<>();
        for (ConfigValue v : PgTrickleSinkConfig.CONFIG_DEF.validate(props)) {
            if (!v.errorMessages().isEmpty()) {
                out.put(v.name(), v.errorMessages());
            }
        }
        return out;
    }
}
