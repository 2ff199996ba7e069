package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunFileTest {
    @TempDir
    Path dataDir;

    @Test
    void aRunIsLiveWhileItsServerAnswers() throws IOException {
        RunFile file = RunFile.in(dataDir);
        assertThat(file.live()).isEmpty();

        try (ServerSocket server = new ServerSocket(0)) {
            Files.writeString(dataDir.resolve("postmaster.pid"), "42\n");
            file.write("jdbc:postgresql://localhost:" + server.getLocalPort() + "/postgres", server.getLocalPort());

            assertThat(file.live()).hasValueSatisfying(entry -> {
                assertThat(entry.jdbcUrl()).isEqualTo("jdbc:postgresql://localhost:" + server.getLocalPort() + "/postgres");
                assertThat(entry.pid()).isEqualTo(ProcessHandle.current().pid());
            });
        }
    }

    @Test
    void aStaleFileIsIgnoredAndRemoved() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        Files.writeString(dataDir.resolve("postmaster.pid"), "42\n");
        RunFile file = RunFile.in(dataDir);
        file.write("jdbc:postgresql://localhost:" + closedPort + "/postgres", closedPort);

        assertThat(file.live()).isEmpty();
        assertThat(file.path()).doesNotExist();
    }

    @Test
    void withoutPostgresRunningTheFileIsStale() throws IOException {
        try (ServerSocket server = new ServerSocket(0)) {
            RunFile file = RunFile.in(dataDir);
            file.write("jdbc:postgresql://localhost:" + server.getLocalPort() + "/postgres", server.getLocalPort());

            assertThat(file.live()).isEmpty();
        }
    }
}
