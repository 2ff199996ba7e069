package io.pgtrickle.embedded;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddedPostgresServerIT {
    @Test
    void persistentServerRunsTheSelectedPostgresWithLogicalReplicationAndKeepsDataAcrossRestarts(@TempDir Path dir)
            throws Exception {
        Path data = dir.resolve("pgdata");
        int major = PostgresBinaries.selected().majorVersion();
        try (EmbeddedPostgresServer server = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.persistent(0, data))) {
            assertThat(server.majorVersion()).isEqualTo(major);
            assertThat(single(server, "SHOW server_version_num")).startsWith(String.valueOf(major));
            assertThat(single(server, "SHOW wal_level")).isEqualTo("logical");
            assertThat(single(server, "SHOW fsync")).isEqualTo("on");
            assertThat(single(server, "SHOW synchronous_commit")).isEqualTo("on");
            execute(server, "CREATE TABLE kept (v text)", "INSERT INTO kept VALUES ('still here')");
        }
        assertThat(Files.exists(data.resolve("PG_VERSION"))).isTrue();

        try (EmbeddedPostgresServer again = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.persistent(0, data))) {
            assertThat(single(again, "SELECT v FROM kept")).isEqualTo("still here");
        }
    }

    @Test
    void aPortInUseIsAClearError() throws Exception {
        try (EmbeddedPostgresServer first = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.ephemeral())) {
            var taken = new EmbeddedPostgresServer.Options(first.port(), null, false, java.util.Map.of());
            assertThatThrownBy(() -> EmbeddedPostgresServer.start(taken))
                    .hasMessageContaining("could not start the embedded PostgreSQL " + first.majorVersion()
                            + " server on port " + first.port());
        }
    }

    @Test
    void otherMajorVersionsRunFromTheBinariesTheBuildCopied() throws Exception {
        Path directory = Path.of(System.getenv("PGTRICKLE_POSTGRES_BINARIES"));
        for (int major : new int[] {15, 16, 17}) {
            var options = EmbeddedPostgresServer.Options.ephemeral().withBinaries(PostgresBinaries.of(major, directory));
            try (EmbeddedPostgresServer server = EmbeddedPostgresServer.start(options)) {
                assertThat(server.majorVersion()).isEqualTo(major);
                assertThat(Integer.parseInt(single(server, "SHOW server_version_num")) / 10000).isEqualTo(major);
                assertThat(single(server, "SHOW wal_level")).isEqualTo("logical");
            }
        }
    }

    private static String single(EmbeddedPostgresServer server, String sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(server.jdbcUrl("postgres"));
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        }
    }

    private static void execute(EmbeddedPostgresServer server, String... sql) throws SQLException {
        try (Connection c = DriverManager.getConnection(server.jdbcUrl("postgres")); Statement s = c.createStatement()) {
            for (String q : sql) {
                s.execute(q);
            }
        }
    }
}
