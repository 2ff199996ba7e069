package io.pgtrickle.connect.source;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;
import org.junit.jupiter.api.Test;

/** docs/connector-source.md and the plugin's README hold the key table printed from the ConfigDef. */
class ConfigReferenceTest {
    private static final String HOW = "; regenerate with: ./mvnw -B -q -o -pl connector-source test"
            + " -Dtest=ConfigReferenceTest -Dregenerate=true";

    @Test
    void theDocsHoldTheGeneratedTable() throws IOException {
        check(Path.of("..").resolve(ConfigReference.FILE));
    }

    @Test
    void thePluginReadmeHoldsTheGeneratedTable() throws IOException {
        check(Path.of("src/plugin/README.md"));
    }

    private static void check(Path file) throws IOException {
        String inRepository = Files.readString(file, StandardCharsets.UTF_8);
        String generated = ConfigReference.replaceTable(inRepository);
        if (Boolean.getBoolean("regenerate")) {
            Files.writeString(file, generated, StandardCharsets.UTF_8);
            inRepository = generated;
        }
        assertThat(inRepository).as(file + " is out of date with PgTrickleSourceConfig" + HOW).isEqualTo(generated);
    }

    @Test
    void everyKeyHasARow() {
        String table = ConfigReference.table();
        for (ConfigKey k : PgTrickleSourceConfig.CONFIG_DEF.configKeys().values()) {
            assertThat(table).contains("| `" + k.name + "` |");
        }
        assertThat(table).contains("| `topic.template` | Topic template | string | `pgtrickle.{stream_table}` |")
                .contains("| `connection.url` | JDBC URL | string | (required) |")
                .contains("| `connection.password` | Database password | password | (none) |");
    }
}
