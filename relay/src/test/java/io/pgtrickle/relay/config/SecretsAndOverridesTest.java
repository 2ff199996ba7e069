package io.pgtrickle.relay.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** ${ENV:NAME}, ${FILE:path} and the PGTRICKLE_RELAY_* overrides, with an injected environment. */
class SecretsAndOverridesTest {
    private static final String KAFKA = "postgres_url = \"jdbc:postgresql://db/app\"\n"
            + "postgres_password = \"${ENV:PG_PASSWORD}\"\n"
            + "[[pipeline]]\nname = \"p\"\ndirection = \"forward\"\n[pipeline.source]\nstream_table = \"s\"\n"
            + "[pipeline.sink]\ntype = \"kafka\"\nbootstrap_servers = \"${ENV:KAFKA_HOST}:9092\"\n"
            + "[pipeline.sink.properties]\nsecurity.protocol = \"SASL_SSL\"\n\"sasl.jaas.config\" = \"${ENV:JAAS}\"\n"
            + "linger.ms = 5\n";

    @Test
    void environmentReferencesAreReplacedAndPropertiesBecomeSecrets() {
        RelayConfig c = ConfigLoader.parse(KAFKA, "relay.toml",
                Map.of("PG_PASSWORD", "pw", "KAFKA_HOST", "broker", "JAAS", "jaas-line"));
        assertThat(c.postgresPassword().reveal()).isEqualTo("pw");
        KafkaEndpoint k = ((SinkConfig.Kafka) c.pipelines().get(0).sink()).endpoint();
        assertThat(k.bootstrapServers()).isEqualTo("broker:9092");
        assertThat(k.properties()).containsOnlyKeys("security.protocol", "sasl.jaas.config", "linger.ms");
        assertThat(k.properties().get("sasl.jaas.config").reveal()).isEqualTo("jaas-line");
        assertThat(k.properties().get("linger.ms").reveal()).isEqualTo("5");
    }

    @Test
    void aMissingEnvironmentVariableNamesTheVariableAndTheKey() {
        ConfigException e = catchThrowableOfType(ConfigException.class,
                () -> ConfigLoader.parse(KAFKA, "relay.toml", Map.of("KAFKA_HOST", "b")));
        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(
                "postgres_password (line 2:1): environment variable PG_PASSWORD (from ${ENV:PG_PASSWORD}) is not set;"
                        + " set it or replace the reference",
                "pipeline \"p\".sink.properties.\"sasl.jaas.config\" (line 13:1): environment variable JAAS"
                        + " (from ${ENV:JAAS}) is not set; set it or replace the reference");
    }

    @Test
    void fileReferencesReadTheFileWithoutItsTrailingNewlineRelativeToTheConfig(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("nats.token"), "s3cret\n");
        Path config = dir.resolve("relay.toml");
        Files.writeString(config, "postgres_url = \"jdbc:postgresql://db/app\"\n"
                + "[[pipeline]]\nname = \"p\"\ndirection = \"forward\"\n[pipeline.source]\nstream_table = \"s\"\n"
                + "[pipeline.sink]\ntype = \"nats\"\nstream = \"S\"\ntoken = \"${FILE:nats.token}\"\n");
        RelayConfig c = ConfigLoader.load(config, Map.of());
        assertThat(((SinkConfig.Nats) c.pipelines().get(0).sink()).endpoint().token().reveal()).isEqualTo("s3cret");
    }

    @Test
    void aMissingFileIsAnErrorNamingTheFileAndTheKey(@TempDir Path dir) throws IOException {
        Path config = dir.resolve("relay.toml");
        Files.writeString(config, "postgres_url = \"jdbc:postgresql://db/app\"\npostgres_password = \"${FILE:pg.pw}\"\n");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.load(config, Map.of()));
        assertThat(e.problems()).singleElement().satisfies(p -> {
            assertThat(p.path()).isEqualTo("postgres_password");
            assertThat(p.location()).isEqualTo("line 2:1");
            assertThat(p.message()).contains("cannot read " + dir.resolve("pg.pw") + " (from ${FILE:pg.pw}): no such file;");
        });
    }

    @Test
    void anUnknownReferenceKindIsAnError() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(
                "postgres_url = \"jdbc:postgresql://db/app\"\npostgres_password = \"${VAULT:x}\"\n", "r", Map.of()));
        assertThat(e.problems()).singleElement().extracting(ConfigProblem::message).asString()
                .startsWith("unknown reference ${VAULT:...}; write ${ENV:NAME}");
    }

    @Test
    void environmentOverridesWinOverTheFile() {
        RelayConfig c = ConfigLoader.parse("postgres_url = \"jdbc:postgresql://file/app\"\nlog_level = \"info\"\n"
                        + "[engine]\nport = 1\n", "relay.toml",
                Map.of("PGTRICKLE_RELAY_POSTGRES_URL", "jdbc:postgresql://env/app",
                        "PGTRICKLE_RELAY_LOG_LEVEL", "debug",
                        "PGTRICKLE_RELAY_ENGINE_EMBEDDED", "true",
                        "PGTRICKLE_RELAY_ENGINE_PORT", "5433",
                        "PGTRICKLE_RELAY_POSTGRES_PASSWORD", "${ENV:PGPW}", "PGPW", "pw"));
        assertThat(c.postgresUrl()).isEqualTo("jdbc:postgresql://env/app");
        assertThat(c.logLevel()).isEqualTo("debug");
        assertThat(c.engine().embedded()).isTrue();
        assertThat(c.engine().port()).isEqualTo(5433);
        assertThat(c.postgresPassword().reveal()).isEqualTo("pw");
    }

    @Test
    void anEmbeddedOverrideMakesPostgresUrlOptional() {
        RelayConfig c = ConfigLoader.parse("", "relay.toml", Map.of("PGTRICKLE_RELAY_ENGINE_EMBEDDED", "TRUE"));
        assertThat(c.engine().embedded()).isTrue();
    }

    @Test
    void aBadOverrideValueNamesTheVariable() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(
                "", "relay.toml", Map.of("PGTRICKLE_RELAY_ENGINE_EMBEDDED", "yes", "PGTRICKLE_RELAY_ENGINE_PORT", "x")));
        assertThat(e.problems()).extracting(ConfigProblem::toString).contains(
                "engine.embedded (environment variable PGTRICKLE_RELAY_ENGINE_EMBEDDED): expected true or false,"
                        + " found \"yes\"; set PGTRICKLE_RELAY_ENGINE_EMBEDDED=true or =false",
                "engine.port (environment variable PGTRICKLE_RELAY_ENGINE_PORT): expected an integer, found \"x\";"
                        + " set the variable to a whole number");
    }

    @Test
    void anUnknownOverrideNamesTheNearestValidVariable() {
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> ConfigLoader.parse(
                "postgres_url = \"jdbc:postgresql://db/app\"\n", "relay.toml",
                Map.of("PGTRICKLE_RELAY_POSTGRES_URI", "x", "PATH", "/bin")));
        assertThat(e.problems()).extracting(ConfigProblem::toString).containsExactly(
                "(environment variable PGTRICKLE_RELAY_POSTGRES_URI): unknown variable PGTRICKLE_RELAY_POSTGRES_URI;"
                        + " did you mean PGTRICKLE_RELAY_POSTGRES_URL? (or unset it)");
    }

    @Test
    void aPasswordInTheUrlIsThePostgresPassword() {
        assertThat(ConfigLoader.parse("postgres_url = \"postgresql://app:pw@db/app\"\n", "r", Map.of())
                .postgresPassword().reveal()).isEqualTo("pw");
        assertThat(ConfigLoader.parse("postgres_url = \"jdbc:postgresql://db/app?user=app&password=pw2\"\n", "r",
                Map.of()).postgresPassword().reveal()).isEqualTo("pw2");
    }
}
