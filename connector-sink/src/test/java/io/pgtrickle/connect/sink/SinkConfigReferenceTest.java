package io.pgtrickle.connect.sink;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/**
 * docs/connector-sink.md and the plugin README's key table are what {@link SinkConfigReference}
 * prints from the ConfigDef; {@code -Dregenerate=true} rewrites them.
 */
class SinkConfigReferenceTest {
    private static final Path DOC = Path.of("..").resolve(SinkConfigReference.FILE);
    private static final Path README = Path.of("src/plugin/README.md");
    private static final String HOW = "regenerate with: ./mvnw -B -q -o -pl connector-sink test"
            + " -Dtest=SinkConfigReferenceTest -Dregenerate=true";

    @Test
    void theReferenceInDocsMatchesTheConfigDef() throws IOException {
        String generated = SinkConfigReference.markdown();
        if (Boolean.getBoolean("regenerate")) {
            Files.writeString(DOC, generated, StandardCharsets.UTF_8);
        }
        String inRepository = Files.exists(DOC) ? Files.readString(DOC, StandardCharsets.UTF_8) : "";
        assertThat(inRepository).as(SinkConfigReference.FILE + " is out of date with PgTrickleSinkConfig; " + HOW)
                .isEqualTo(generated);
    }

    @Test
    void theReadmeTableMatchesTheConfigDef() throws IOException {
        String readme = Files.readString(README, StandardCharsets.UTF_8);
        int start = readme.indexOf(SinkConfigReference.TABLE_START);
        int end = readme.indexOf(SinkConfigReference.TABLE_END);
        assertThat(start).as("the README marks where the table goes").isGreaterThanOrEqualTo(0);
        assertThat(end).isGreaterThan(start);
        String expected = readme.substring(0, start) + SinkConfigReference.TABLE_START + "\n"
                + SinkConfigReference.table() + readme.substring(end);
        if (Boolean.getBoolean("regenerate")) {
            Files.writeString(README, expected, StandardCharsets.UTF_8);
            readme = expected;
        }
        assertThat(readme).as(README + " has an old key table; " + HOW).isEqualTo(expected);
    }

    @Test
    void everyKeyHasARowAndADescription() {
        String table = SinkConfigReference.table();
        for (String key : PgTrickleSinkConfig.CONFIG_DEF.names()) {
            assertThat(table).contains("| `" + key + "` |");
            assertThat(PgTrickleSinkConfig.CONFIG_DEF.configKeys().get(key).documentation).isNotBlank();
        }
        assertThat(table).contains("| `event.id` | Inbox | list | `coordinates` |")
                .contains("| `connection.url` | Connection | string | (required) |");
    }
}
