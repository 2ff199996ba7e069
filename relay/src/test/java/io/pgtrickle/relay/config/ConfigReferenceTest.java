package io.pgtrickle.relay.config;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.testing.GeneratedSection;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** docs/relay-config.md is what {@link ConfigReference} generates from the key registry. */
class ConfigReferenceTest {
    private static final Path FILE = Path.of("..").resolve(ConfigReference.FILE);

    @Test
    void theReferenceInDocsMatchesTheRegistry() throws IOException {
        String generated = ConfigReference.markdown();
        if (Boolean.getBoolean("regenerate")) {
            Files.writeString(FILE, generated, StandardCharsets.UTF_8);
        }
        String inRepository = Files.exists(FILE) ? Files.readString(FILE, StandardCharsets.UTF_8) : "";
        assertThat(inRepository)
                .as(ConfigReference.FILE + " is out of date with ConfigKey; regenerate it with: ./mvnw -B -q -o -pl relay"
                        + " test -Dtest=ConfigReferenceTest -Dregenerate=true")
                .isEqualTo(generated);
    }

    @Test
    void theReadmeHoldsTheKeyTable() throws IOException {
        new GeneratedSection("relay keys", "./mvnw -B -q -o -pl relay test -Dtest=ConfigReferenceTest -Dregenerate=true")
                .assertCurrent(Path.of("..", "README.md"), ConfigReference.table());
    }

    @Test
    void everyKeyHasARowWithItsDefault() {
        String generated = ConfigReference.markdown();
        for (ConfigKey k : ConfigKey.values()) {
            assertThat(generated).contains("| `" + k.key() + "` |");
            assertThat(k.doc()).as(k + " needs a description").isNotBlank();
        }
        assertThat(generated).contains("| [[pipeline]] | `batch_size` | integer 1..100000 | no | 500 |")
                .contains("`PGTRICKLE_RELAY_ENGINE_EMBEDDED`");
    }
}
