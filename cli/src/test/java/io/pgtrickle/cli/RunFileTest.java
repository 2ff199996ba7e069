package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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

    @Test
    void aRunFileOfAKilledProcessIsStaleEvenWhileItsServerStillAnswers() throws Exception {
        Process killed = new ProcessBuilder("sleep", "60").start();
        ProcessHandle handle = killed.toHandle();
        try (ServerSocket orphanedServer = new ServerSocket(0)) {
            Files.writeString(dataDir.resolve("postmaster.pid"), "42\n");
            RunFile file = RunFile.in(dataDir);
            file.write("jdbc:postgresql://localhost:" + orphanedServer.getLocalPort() + "/postgres",
                    orphanedServer.getLocalPort(), handle);
            killed.destroyForcibly().waitFor();

            List<String> notes = new ArrayList<>();
            assertThat(file.live(notes::add)).isEmpty();

            assertThat(notes).singleElement().asString()
                    .contains("'pgtrickle run' (pid " + killed.pid() + ") no longer serves " + dataDir)
                    .contains("that process is gone");
            assertThat(file.path()).doesNotExist();
        }
    }

    @Test
    void aPidReusedByAnotherProcessIsNotMistakenForTheRun() throws IOException {
        try (ServerSocket server = new ServerSocket(0)) {
            Files.writeString(dataDir.resolve("postmaster.pid"), "42\n");
            long me = ProcessHandle.current().pid();
            long startedEarlier = ProcessHandle.current().info().startInstant().orElseThrow().toEpochMilli() - 60_000;
            Files.writeString(dataDir.resolve(RunFile.NAME), "url=jdbc\\:postgresql\\://localhost\\:" + server.getLocalPort()
                    + "/postgres\nport=" + server.getLocalPort() + "\npid=" + me + "\npid.started=" + startedEarlier + "\n");

            List<String> notes = new ArrayList<>();
            assertThat(RunFile.in(dataDir).live(notes::add)).isEmpty();

            assertThat(notes).singleElement().asString().contains("pid " + me + " is another process now");
        }
    }

    @Test
    void aLiveRunKeepsItsFileAndSaysNothing() throws IOException {
        try (ServerSocket server = new ServerSocket(0)) {
            Files.writeString(dataDir.resolve("postmaster.pid"), "42\n");
            RunFile file = RunFile.in(dataDir);
            file.write("jdbc:postgresql://localhost:" + server.getLocalPort() + "/postgres", server.getLocalPort());

            List<String> notes = new ArrayList<>();
            assertThat(file.live(notes::add)).isPresent();
            assertThat(notes).isEmpty();
            assertThat(file.path()).exists();
        }
    }
}
