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
    void persistentServerRunsPostgres18WithLogicalReplicationAndKeepsDataAcrossRestarts(@TempDir Path dir)
            throws Exception {
        Path data = dir.resolve("pgdata");
        try (EmbeddedPostgresServer server = EmbeddedPostgresServer.start(EmbeddedPostgresServer.Options.persistent(0, data))) {
            assertThat(single(server, "SHOW server_version_num")).startsWith("18");
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
                    .hasMessageContaining("could not start the embedded PostgreSQL 18 server on port " + first.port());
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
