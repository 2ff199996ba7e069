package io.pgtrickle.connect.sink;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.connect.testing.ConfigDefTable;
import io.pgtrickle.testing.GeneratedSection;
import java.io.IOException;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README, docs/connector-sink.md and the plugin's README hold the key table printed from the ConfigDef. */
class SinkConfigReferenceTest {
    private static final GeneratedSection KEYS = new GeneratedSection("connector-sink keys",
            "./mvnw -B -q -o -pl connector-sink test -Dtest=SinkConfigReferenceTest -Dregenerate=true");
    private static final String TABLE = ConfigDefTable.markdown(PgTrickleSinkConfig.CONFIG_DEF);

    @Test
    void theReadmeHoldsTheGeneratedTable() throws IOException {
        KEYS.assertCurrent(Path.of("..", "README.md"), TABLE);
    }

    @Test
    void theDocsHoldTheGeneratedTable() throws IOException {
        KEYS.assertCurrent(Path.of("..", "docs", "connector-sink.md"), TABLE);
    }

    @Test
    void thePluginReadmeHoldsTheGeneratedTable() throws IOException {
        KEYS.assertCurrent(Path.of("src", "plugin", "README.md"), TABLE);
    }

    @Test
    void everyKeyHasARowAndADescription() {
        for (String key : PgTrickleSinkConfig.CONFIG_DEF.names()) {
            assertThat(TABLE).contains("| `" + key + "` |");
            assertThat(PgTrickleSinkConfig.CONFIG_DEF.configKeys().get(key).documentation).as(key).isNotBlank();
        }
        assertThat(TABLE).contains("| `event.id` | Inbox | list | `coordinates` |")
                .contains("| `connection.url` | Connection | string | (required) |");
    }
}
