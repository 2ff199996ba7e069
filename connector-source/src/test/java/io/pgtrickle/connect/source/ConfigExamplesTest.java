package io.pgtrickle.connect.source;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.config.ConfigValue;
import org.junit.jupiter.api.Test;

/** The connector's files in config-examples/connect pass the ConfigDef as they are (placeholders filled). */
class ConfigExamplesTest {
    private static final Path DIR = Path.of("..", "config-examples", "connect");

    @Test
    void thePropertiesFilePassesTheConfigDef() throws Exception {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(DIR.resolve("connector-source.properties"))) {
            p.load(r);
        }
        Map<String, String> config = new HashMap<>();
        p.forEach((k, v) -> config.put(k.toString(), v.toString()));
        assertValid(config);
        assertThat(config).containsEntry("connector.class", PgTrickleSourceConnector.class.getName());
        PgTrickleSourceConfig parsed = new PgTrickleSourceConfig(config);
        assertThat(parsed.streamTablesPattern().matcher("public.order_totals").matches()).isTrue();
        assertThat(parsed.streamTablesPattern().matcher("publicXorder_totals").matches()).isFalse();
    }

    @Test
    void theRestJsonPassesTheConfigDefWithItsPlaceholdersFilled() throws Exception {
        JsonNode root = new ObjectMapper().readTree(DIR.resolve("connector-source.json").toFile());
        Map<String, String> config = new HashMap<>();
        root.path("config").fields().forEachRemaining(e -> config.put(e.getKey(), e.getValue().asText()
                .replace("${env:PGTRICKLE_CONNECTION_URL}", "jdbc:postgresql://db:5432/app").replace("${env:PGTRICKLE_CONNECTION_PASSWORD}", "pw")));
        assertThat(root.path("name").asText()).isEqualTo("pgtrickle-source");
        assertThat(config.values()).noneMatch(v -> v.contains("${"));
        assertThat(config).containsEntry("connector.class", PgTrickleSourceConnector.class.getName())
                .containsEntry("transaction.boundary", "connector").containsEntry("exactly.once.support", "required");
        assertValid(config);
    }

    private static void assertValid(Map<String, String> config) {
        for (ConfigValue v : PgTrickleSourceConfig.CONFIG_DEF.validate(config)) {
            assertThat(v.errorMessages()).as(v.name()).isEmpty();
        }
        new PgTrickleSourceConfig(config);
    }
}
