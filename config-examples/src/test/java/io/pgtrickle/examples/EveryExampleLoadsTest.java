package io.pgtrickle.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrickle.relay.config.ConfigLoader;
import io.pgtrickle.relay.config.RelayConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Connector;
import org.junit.jupiter.api.Test;

/**
 * Every file of config-examples/ loads through the code that reads it in production: relay TOML
 * through the relay's config loader, connector JSON (the REST API's body) and standalone
 * .properties through the ConfigDef of the connector class they name. A new example is covered
 * without changing this test; a file of another kind fails it until it is.
 */
class EveryExampleLoadsTest {
    private static final Path DIR = Path.of("").toAbsolutePath();
    private static final Pattern ENV_REFERENCE = Pattern.compile("\\$\\{ENV:([A-Za-z0-9_]+)}");
    private static final Pattern CONNECT_ENV = Pattern.compile("\\$\\{env:([A-Za-z0-9_]+)}");
    /** Files read by something else: the JAAS file by relay-kafka.toml's ${FILE:...}, SQL by PostgreSQL. */
    private static final List<String> READ_BY_OTHERS = List.of("kafka-jaas.conf", "compose/init.sql",
            "compose/connect-distributed.properties");

    private static List<Path> examples() throws IOException {
        try (Stream<Path> files = Files.walk(DIR)) {
            return files.filter(Files::isRegularFile).filter(p -> {
                String rel = DIR.relativize(p).toString();
                return !rel.startsWith("src") && !rel.startsWith("target") && !rel.equals("pom.xml");
            }).sorted().toList();
        }
    }

    @Test
    void everyFileIsOfAKindThatIsLoaded() throws IOException {
        List<Path> files = examples();
        assertThat(files).hasSizeGreaterThanOrEqualTo(10);
        for (Path f : files) {
            String rel = DIR.relativize(f).toString();
            assertThat(rel.endsWith(".toml") || rel.startsWith("connect/") || READ_BY_OTHERS.contains(rel))
                    .as(rel + " is loaded by this test or named as read by something else").isTrue();
        }
    }

    @Test
    void everyRelayConfigLoads() throws IOException {
        int loaded = 0;
        for (Path f : examples()) {
            if (!f.toString().endsWith(".toml")) {
                continue;
            }
            Map<String, String> env = new HashMap<>();
            Matcher m = ENV_REFERENCE.matcher(Files.readString(f));
            while (m.find()) {
                env.put(m.group(1), "value-of-" + m.group(1));
            }
            RelayConfig config = ConfigLoader.load(f, env);
            assertThat(config.pipelines()).as(f + " declares pipelines").isNotEmpty();
            loaded++;
        }
        assertThat(loaded).isGreaterThanOrEqualTo(6);
    }

    @Test
    void everyConnectorConfigValidatesAgainstItsConnectorsConfigDef() throws Exception {
        int validated = 0;
        for (Path f : examples()) {
            String rel = DIR.relativize(f).toString();
            if (!rel.startsWith("connect/")) {
                continue;
            }
            Map<String, String> config = resolveEnv(rel.endsWith(".json") ? json(f) : properties(f));
            String connectorClass = config.get("connector.class");
            assertThat(connectorClass).as(rel + " names its connector.class").startsWith("io.pgtrickle.connect.");
            Connector connector = (Connector) Class.forName(connectorClass).getDeclaredConstructor().newInstance();
            for (ConfigValue v : connector.config().validate(config)) {
                assertThat(v.errorMessages()).as(rel + ": " + v.name()).isEmpty();
            }
            validated++;
        }
        assertThat(validated).as("connector JSON and .properties, two per connector").isGreaterThanOrEqualTo(4);
    }

    /**
     * What the worker's env config provider does before the connector sees its config (compose
     * sets these variables on the connect service): ${env:NAME} becomes the variable's value.
     */
    private static Map<String, String> resolveEnv(Map<String, String> config) {
        Map<String, String> resolved = new HashMap<>();
        config.forEach((k, v) -> resolved.put(k, CONNECT_ENV.matcher(v).replaceAll(m -> m.group(1).endsWith("_URL")
                ? "jdbc:postgresql://postgres:5432/shop" : "value-of-" + m.group(1))));
        return resolved;
    }

    private static Map<String, String> json(Path f) throws IOException {
        JsonNode root = new ObjectMapper().readTree(f.toFile());
        assertThat(root.path("name").asText()).as(f + " has a name").isNotBlank();
        Map<String, String> config = new HashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = root.path("config").fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            assertThat(e.getValue().isTextual()).as(f + ": " + e.getKey() + " is a string, as the REST API takes it")
                    .isTrue();
            config.put(e.getKey(), e.getValue().asText());
        }
        return config;
    }

    private static Map<String, String> properties(Path f) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(f)) {
            p.load(r);
        }
        Map<String, String> config = new HashMap<>();
        p.stringPropertyNames().forEach(k -> config.put(k, p.getProperty(k)));
        return config;
    }
}
