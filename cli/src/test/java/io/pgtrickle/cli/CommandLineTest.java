package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import org.junit.jupiter.api.Test;

/** What the command line does before any database is involved: help, version, usage errors, early checks. */
class CommandLineTest {
    @Test
    void helpListsEveryCommandAndTheExitCodes() {
        Cli.Result r = Cli.run("--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("run", "create", "alter", "drop", "refresh", "status", "explain", "demo",
                        "bench")
                .contains("Exit codes:").contains("6   refresh failed");
    }

    @Test
    void eachCommandHasHelp() {
        for (String command : new String[] {"run", "create", "alter", "drop", "refresh", "status", "explain", "demo",
            "bench"}) {
            Cli.Result r = Cli.run(command, "--help");
            assertThat(r.exitCode()).as(command).isZero();
            assertThat(r.out()).as(command).contains("Usage: pgtrickle " + command);
        }
        assertThat(Cli.run("create", "--help").out()).contains("--query", "--query-file", "--schedule", "--mode",
                "--jdbc-url", "--user", "--data-dir", "--port", "--slot-name", "PGTRICKLE_SLOT_NAME",
                "PGTRICKLE_PASSWORD");
    }

    @Test
    void versionNamesTheProduct() {
        Cli.Result r = Cli.run("--version");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).startsWith("pgtrickle ").contains("PostgreSQL 18");
    }

    @Test
    void noCommandIsAUsageError() {
        Cli.Result r = Cli.run();

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("Usage: pgtrickle");
    }

    @Test
    void missingOrUnknownOptionsExitWithTwo() {
        Cli.Result noQuery = Cli.run("create", "totals");
        assertThat(noQuery.exitCode()).isEqualTo(2);
        assertThat(noQuery.err()).startsWith("error: ").contains("--query").contains("pgtrickle create --help");

        Cli.Result unknown = Cli.run("status", "--jdbc-ur", "jdbc:postgresql://localhost/x");
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).contains("Unknown option", "--jdbc-url");

        assertThat(Cli.run("create", "t", "--query", "SELECT 1", "--query-file", "q.sql").exitCode()).isEqualTo(2);
        assertThat(Cli.run("alter", "t", "--suspend", "--resume").exitCode()).isEqualTo(2);
    }

    @Test
    void runChecksItsLogFormatAndMetricsAddressBeforeStarting() {
        Cli.Result format = Cli.run("run", "--jdbc-url", "jdbc:postgresql://localhost:1/x", "--log-format", "xml");
        assertThat(format.exitCode()).isEqualTo(2);
        assertThat(format.err()).contains("--log-format must be text or json, not xml");

        Cli.Result address = Cli.run("run", "--jdbc-url", "jdbc:postgresql://localhost:1/x", "--metrics-addr", "9464");
        assertThat(address.exitCode()).isEqualTo(2);
        assertThat(address.err()).contains("--metrics-addr must be host:port, got 9464");

        Cli.Result port = Cli.run("run", "--jdbc-url", "jdbc:postgresql://localhost:1/x", "--metrics-addr", "h:99999");
        assertThat(port.exitCode()).isEqualTo(2);
        assertThat(port.err()).contains("port from 0 to 65535");
    }

    @Test
    void alterWithNothingToChangeIsAUsageError() {
        Cli.Result r = Cli.run("alter", "totals", "--jdbc-url", "jdbc:postgresql://localhost:1/x");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("nothing to alter");
    }

    @Test
    void jdbcUrlMustBePostgresAndExcludesEmbedded() {
        Cli.Result wrong = Cli.run("status", "--jdbc-url", "jdbc:mysql://localhost/x?password=secret");
        assertThat(wrong.exitCode()).isEqualTo(2);
        assertThat(wrong.err()).contains("--jdbc-url must be a PostgreSQL JDBC URL").contains("password=***")
                .doesNotContain("secret");

        Cli.Result both = Cli.run("run", "--embedded", "--jdbc-url", "jdbc:postgresql://localhost/x");
        assertThat(both.exitCode()).isEqualTo(2);
        assertThat(both.err()).contains("--embedded and --jdbc-url exclude each other");
    }

    @Test
    void slotNameMustBeAValidSlotName() {
        Cli.Result r = Cli.run("status", "--slot-name", "My-Slot", "--jdbc-url", "jdbc:postgresql://localhost:1/x");

        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("--slot-name must be 1 to 63 lower-case letters, digits or underscores, got: My-Slot");
    }

    @Test
    void invalidInputIsRejectedBeforeAnythingStarts() {
        // No --jdbc-url and a data directory that does not exist: had the command started a
        // server first, these would take seconds and leave a directory behind.
        String[] embedded = {"--data-dir", "target/never-created", "--port", "1"};

        Cli.Result schedule = Cli.run(concat(new String[] {"create", "t", "--query", "SELECT 1", "--schedule",
                "every minute"}, embedded));
        assertThat(schedule.exitCode()).isEqualTo(3);
        assertThat(schedule.err()).startsWith("error: invalid schedule \"every minute\"");

        Cli.Result mode = Cli.run(concat(new String[] {"create", "t", "--query", "SELECT 1", "--mode", "SOMETIMES"},
                embedded));
        assertThat(mode.exitCode()).isEqualTo(3);
        assertThat(mode.err()).contains("invalid refresh mode \"SOMETIMES\"");

        Cli.Result name = Cli.run(concat(new String[] {"drop", "a.b.c"}, embedded));
        assertThat(name.exitCode()).isEqualTo(3);
        assertThat(name.err()).contains("invalid stream table name \"a.b.c\"");

        Cli.Result file = Cli.run(concat(new String[] {"create", "t", "--query-file", "target/no-such.sql"}, embedded));
        assertThat(file.exitCode()).isEqualTo(3);
        assertThat(file.err()).contains("query file target/no-such.sql does not exist");

        assertThat(java.nio.file.Files.exists(java.nio.file.Path.of("target/never-created"))).isFalse();
    }

    @Test
    void refusedConnectionExitsWithFive() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }

        Cli.Result r = Cli.run("status", "--jdbc-url", "jdbc:postgresql://localhost:" + closedPort + "/postgres");

        assertThat(r.exitCode()).isEqualTo(5);
        assertThat(r.err()).startsWith("error: cannot connect to jdbc:postgresql://localhost:" + closedPort)
                .doesNotContain("\tat ");
    }

    @Test
    void verboseAddsTheStackTrace() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }

        Cli.Result r = Cli.run("status", "-v", "--jdbc-url", "jdbc:postgresql://localhost:" + closedPort + "/postgres");

        assertThat(r.exitCode()).isEqualTo(5);
        assertThat(r.err()).contains("error: cannot connect", "\tat ", "PgTrickleException");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] all = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }
}
