package io.pgtrickle.connect.source;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.connect.testing.ConfigDefTable;
import io.pgtrickle.testing.GeneratedSection;
import java.io.IOException;
import java.nio.file.Path;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;
import org.junit.jupiter.api.Test;

/** The README, docs/connector-source.md and the plugin's README hold the key table printed from the ConfigDef. */
class ConfigReferenceTest {
    private static final GeneratedSection KEYS = new GeneratedSection("connector-source keys",
            "./mvnw -B -q -o -pl connector-source test -Dtest=ConfigReferenceTest -Dregenerate=true");
    private static final String TABLE = ConfigDefTable.markdown(PgTrickleSourceConfig.CONFIG_DEF);

    @Test
    void theReadmeHoldsTheGeneratedTable() throws IOException {
        KEYS.assertCurrent(Path.of("..", "README.md"), TABLE);
    }

    @Test
    void theDocsHoldTheGeneratedTable() throws IOException {
        KEYS.assertCurrent(Path.of("..", "docs", "connector-source.md"), TABLE);
    }

    @Test
    void thePluginReadmeHoldsTheGeneratedTable() throws IOException {
        KEYS.assertCurrent(Path.of("src", "plugin", "README.md"), TABLE);
    }

    @Test
    void everyKeyHasARowAndADescription() {
        for (ConfigKey k : PgTrickleSourceConfig.CONFIG_DEF.configKeys().values()) {
            assertThat(TABLE).contains("| `" + k.name + "` |");
            assertThat(k.documentation).as(k.name).isNotBlank();
            assertThat(k.displayName).as(k.name).isNotBlank();
        }
        assertThat(TABLE).contains("| `topic.template` | Records | string | `pgtrickle.{stream_table}` |")
                .contains("| `connection.url` | Connection | string | (required) |")
                .contains("| `connection.password` | Connection | password |  |");
    }
}
