package io.pgtrickle.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.pgtrickle.relay.config.ConfigLoader;
import io.pgtrickle.relay.config.PipelineConfig;
import io.pgtrickle.relay.config.RelayConfig;
import io.pgtrickle.relay.config.SinkConfig;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * docker-compose.yml cannot run here (no Docker engine), so this checks what can go wrong without
 * running it: every mounted file exists in the build, every image is pinned, and the hosts, ports
 * and settings of the services agree with the files of config-examples/ they mount.
 */
class DockerComposeTest {
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Pattern PINNED = Pattern.compile("[a-z0-9./_-]+:[0-9][A-Za-z0-9._-]*");
    private static JsonNode services;

    @BeforeAll
    static void parse() throws IOException {
        services = new ObjectMapper(new YAMLFactory()).readTree(ROOT.resolve("docker-compose.yml").toFile())
                .path("services");
        assertThat(services.size()).as("services in docker-compose.yml").isGreaterThanOrEqualTo(8);
    }

    private static JsonNode service(String name) {
        JsonNode s = services.path(name);
        assertThat(s.isMissingNode()).as("service " + name + " in docker-compose.yml").isFalse();
        return s;
    }

    private static List<String> texts(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return out;
    }

    @Test
    void everyImageIsPinnedToAVersion() {
        for (Iterator<Map.Entry<String, JsonNode>> it = services.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> s = it.next();
            assertThat(s.getValue().path("image").asText()).as("image of " + s.getKey()).matches(PINNED);
        }
    }

    @Test
    void everyMountedFileExistsAfterTheBuild() {
        int mounts = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = services.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> s = it.next();
            for (String volume : texts(s.getValue().path("volumes"))) {
                String host = volume.split(":")[0];
                assertThat(host).as("a bind mount of " + s.getKey() + " relative to the project").startsWith("./");
                assertThat(ROOT.resolve(host)).as(s.getKey() + " mounts " + host + " (build it with ./mvnw package)")
                        .isRegularFile();
                mounts++;
            }
        }
        assertThat(mounts).isGreaterThanOrEqualTo(8);
    }

    @Test
    void theMountedPluginArchivesAreThisVersionsBuild() throws IOException {
        String version = projectVersion();
        List<String> archives = texts(service("connect").path("volumes")).stream().map(v -> v.split(":")[0])
                .filter(h -> h.endsWith(".tar.gz")).toList();
        assertThat(archives).containsExactlyInAnyOrder("./connector-source/target/connector-source-" + version
                + "-plugin.tar.gz", "./connector-sink/target/connector-sink-" + version + "-plugin.tar.gz");
        assertThat(String.join(" ", texts(service("connect").path("command"))))
                .contains("/opt/pgtrickle/archives/*.tar.gz", "-C /opt/pgtrickle/plugins",
                        "connect-distributed.sh /etc/pgtrickle/connect-distributed.properties");
    }

    @Test
    void theConnectWorkerSettingsAgreeWithTheServices() throws IOException {
        Properties worker = properties("config-examples/compose/connect-distributed.properties");
        assertThat(worker.getProperty("plugin.path")).isEqualTo("/opt/pgtrickle/plugins");
        assertThat(worker.getProperty("exactly.once.source.support")).isEqualTo("enabled");
        assertThat(worker.getProperty("config.providers")).isEqualTo("env");
        assertThat(service("kafka").path("environment").path("KAFKA_ADVERTISED_LISTENERS").asText())
                .contains("PLAINTEXT://" + worker.getProperty("bootstrap.servers"));
        assertThat(worker.getProperty("listeners")).endsWith(":" + containerPort(service("connect"), 8083));
        assertThat(String.join(" ", texts(service("connect-init").path("command"))))
                .contains("http://connect:8083/connectors");
        String url = service("connect").path("environment").path("PGTRICKLE_CONNECTION_URL").asText();
        assertThat(url).isEqualTo("jdbc:postgresql://postgres:" + containerPort(service("postgres"), 5432) + "/"
                + service("postgres").path("environment").path("POSTGRES_DB").asText());
    }

    @Test
    void theRelayConfigLoadsAndNamesTheComposeServices() {
        RelayConfig relay = ConfigLoader.load(ROOT.resolve("config-examples/compose/relay.toml"),
                Map.of("PGTRICKLE_RELAY_POSTGRES_PASSWORD", "secret"));
        assertThat(service("relay").path("environment").has("PGTRICKLE_RELAY_POSTGRES_PASSWORD")).isTrue();
        assertThat(relay.postgresUrl()).startsWith("jdbc:postgresql://postgres:" + containerPort(service("postgres"), 5432)
                + "/" + service("postgres").path("environment").path("POSTGRES_DB").asText());
        assertThat(relay.engine().hosted()).as("the relay hosts the engine").isTrue();
        assertThat(relay.metricsAddr()).endsWith(":" + containerPort(service("relay"), 9464));
        List<String> sinks = new ArrayList<>();
        for (PipelineConfig p : relay.pipelines()) {
            if (p.sink() instanceof SinkConfig.Nats n) {
                sinks.add("nats");
                assertThat(n.endpoint().url()).isEqualTo("nats://nats:" + containerPort(service("nats"), 4222));
            } else if (p.sink() instanceof SinkConfig.Redis r) {
                sinks.add("redis");
                assertThat(r.endpoint().url()).isEqualTo("redis://redis:" + containerPort(service("redis"), 6379));
            }
        }
        assertThat(sinks).containsExactly("nats", "redis");
        assertThat(texts(service("nats").path("command"))).contains("-js");
    }

    @Test
    void postgresRunsWithLogicalDecoding() {
        assertThat(String.join(" ", texts(service("postgres").path("command")))).contains("wal_level=logical");
        assertThat(service("postgres").path("image").asText()).startsWith("postgres:18");
    }

    /** The port a service publishes for {@code expected}, checked to be published as-is. */
    private static int containerPort(JsonNode service, int expected) {
        for (String mapping : texts(service.path("ports"))) {
            String[] parts = mapping.split(":");
            if (Integer.parseInt(parts[parts.length - 1]) == expected) {
                return expected;
            }
        }
        throw new AssertionError("the service publishes no port " + expected + ": " + service.path("ports"));
    }

    private static Properties properties(String path) throws IOException {
        Properties p = new Properties();
        try (Reader r = Files.newBufferedReader(ROOT.resolve(path))) {
            p.load(r);
        }
        return p;
    }

    private static String projectVersion() throws IOException {
        Matcher m = Pattern.compile("<artifactId>pgtrickle-parent</artifactId>\\s*<version>([^<]+)</version>")
                .matcher(Files.readString(ROOT.resolve("config-examples/pom.xml")));
        assertThat(m.find()).isTrue();
        return m.group(1);
    }
}
