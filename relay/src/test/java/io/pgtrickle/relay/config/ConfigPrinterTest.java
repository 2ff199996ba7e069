package io.pgtrickle.relay.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The effective configuration printed by {@code pgtrickle-relay check}. */
class ConfigPrinterTest {
    private static final String TOML = "postgres_url = \"jdbc:postgresql://db/app?user=app&password=hunter2\"\n"
            + "postgres_password = \"hunter2\"\n"
            + "[[pipeline]]\nname = \"p\"\ndirection = \"forward\"\n[pipeline.source]\nstream_table = \"s\"\n"
            + "[pipeline.sink]\ntype = \"kafka\"\nbootstrap_servers = \"k:9092\"\n"
            + "[pipeline.sink.properties]\n\"sasl.jaas.config\" = \"hunter2\"\n"
            + "[[pipeline]]\nname = \"n\"\ndirection = \"reverse\"\n[pipeline.source]\ntype = \"nats\"\nstream = \"S\"\n"
            + "user = \"relay\"\npassword = \"hunter2\"\n[pipeline.sink]\ninbox = \"i\"\n";

    @Test
    void secretsAndTheUrlPasswordAreMaskedAndDefaultsFilledIn() {
        String printed = ConfigPrinter.print(ConfigLoader.parse(TOML, "relay.toml", Map.of()));
        assertThat(printed).doesNotContain("hunter2")
                .contains("postgres_url = \"jdbc:postgresql://db/app?user=app&password=****\"")
                .contains("postgres_password = \"****\"")
                .contains("\"sasl.jaas.config\" = \"****\"")
                .contains("password = \"****\"")
                .contains("metrics_addr = \"127.0.0.1:9464\"")
                .contains("batch_size = 500")
                .contains("retry_initial_backoff = \"500ms\"")
                .contains("topic = \"pgtrickle.{stream_table}\"")
                .contains("transactional_id = \"pgtrickle-relay.default.p\"")
                .contains("durable = \"pgtrickle-n\"")
                .contains("event_id = \"coordinates\"");
    }

    @Test
    void thePrintedConfigReadsBackToTheSameValuesSecretsAside() {
        RelayConfig c = ConfigLoader.parse(TOML.replace("hunter2", "****"), "relay.toml", Map.of());
        RelayConfig again = ConfigLoader.parse(ConfigPrinter.print(c), "printed", Map.of());
        assertThat(again).isEqualTo(c);
    }

    @Test
    void urlPasswordsAreMaskedInUserInfoAndQuery() {
        assertThat(ConfigPrinter.maskUrl("postgresql://app:pw@db:5432/app")).isEqualTo("postgresql://app:****@db:5432/app");
        assertThat(ConfigPrinter.maskUrl("jdbc:postgresql://db/app?password=pw&ssl=true"))
                .isEqualTo("jdbc:postgresql://db/app?password=****&ssl=true");
        assertThat(ConfigPrinter.maskUrl("postgresql://app@db/app")).isEqualTo("postgresql://app@db/app");
    }
}
