package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.capture.CdcMode;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code bench capture}'s options and defaults, without a database. */
class BenchCaptureOptionsTest {
    private static BenchCaptureCommand parse(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "bench";
        all[1] = "capture";
        System.arraycopy(args, 0, all, 2, args.length);
        CommandLine.ParseResult parsed = Main.commandLine().parseArgs(all);
        BenchCaptureCommand command = (BenchCaptureCommand) parsed.subcommand().subcommand().commandSpec().userObject();
        command.validate();
        return command;
    }

    private static Cli.Result run(String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "bench";
        all[1] = "capture";
        System.arraycopy(args, 0, all, 2, args.length);
        return Cli.run(all);
    }

    @Test
    void defaults() {
        BenchCaptureCommand c = parse();

        assertThat(c.rate).isEqualTo(1000);
        assertThat(c.duration).isEqualTo(Duration.ofSeconds(20));
        assertThat(c.warmup).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.writers).isEqualTo(4);
        assertThat(c.batch).isEqualTo(1);
        assertThat(c.database.cdcMode).isEqualTo(CdcMode.WAL);
        assertThat(c.commandLine()).isEqualTo("bin/pgtrickle bench capture --rate 1000 --writers 4 --batch 1"
                + " --duration 20s --warmup 3s --capture wal");
    }

    @Test
    void parsesEveryOption() {
        BenchCaptureCommand c = parse("--rate", "0", "--duration", "1m30s", "--warmup", "0s", "--writers", "8",
                "--batch", "100", "--capture", "TRIGGER", "--jdbc-url", "jdbc:postgresql://db/app?password=secret",
                "--slot-name", "bench_1");

        assertThat(c.rate).isZero();
        assertThat(c.duration).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.warmup).isZero();
        assertThat(c.writers).isEqualTo(8);
        assertThat(c.batch).isEqualTo(100);
        assertThat(c.commandLine()).isEqualTo("bin/pgtrickle bench capture --rate 0 --writers 8 --batch 100"
                + " --duration 1m30s --warmup 0s --capture trigger --jdbc-url jdbc:postgresql://db/app?password=***");
    }

    @Test
    void theOldModeOptionStillSelectsTheCapture() {
        assertThat(parse("--mode", "Trigger").database.cdcMode).isEqualTo(CdcMode.TRIGGER);
        assertThat(parse("--mode", "wal").database.cdcMode).isEqualTo(CdcMode.WAL);
    }

    @Test
    void impossibleOptionsAreUsageErrors() {
        String[][] cases = {
            {"--rate", "-5"}, {"--duration", "0s"}, {"--duration", "20"}, {"--warmup", "soon"}, {"--writers", "0"},
            {"--writers", "65"}, {"--batch", "0"}, {"--mode", "auto"}, {"--capture", "auto"}, {"--slot-name", "Bench"},
            {"--jdbc-url", "jdbc:mysql://x/y"}};
        String[] expected = {"--rate must be 0", "--duration must be longer than 0s", "invalid duration \"20\"",
            "invalid duration \"soon\"", "--writers must be between 1 and 64", "--writers must be between 1 and 64",
            "--batch must be between 1 and 10000", "--capture must be wal or trigger",
            "--capture must be wal or trigger", "--slot-name must be", "--jdbc-url must be a PostgreSQL JDBC URL"};
        for (int i = 0; i < cases.length; i++) {
            Cli.Result r = run(cases[i]);
            assertThat(r.exitCode()).as(String.join(" ", cases[i])).isEqualTo(2);
            assertThat(r.err()).as(String.join(" ", cases[i])).contains(expected[i]);
        }
    }

    @Test
    void helpDocumentsEveryOptionWithItsDefault() {
        Cli.Result r = run("--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("Usage: pgtrickle bench capture", "--rate=N", "Default: 1000", "--duration=D",
                "Default: 20s", "--writers=N", "Default: 4", "--batch=N", "--capture=MODE", "Default: wal",
                "--warmup=D", "Default: 3s", "--jdbc-url=URL", "--user=NAME", "--slot-name=NAME", "PGTRICKLE_PASSWORD",
                "temporary", "captured_at", "written_at", "p99").doesNotContain("--mode");
    }

    @Test
    void theTopLevelBenchCaptureCommandIsGone() {
        assertThat(Cli.run("bench-capture").exitCode()).isEqualTo(2);
        assertThat(Cli.run("bench", "--help").out()).contains("capture");
    }
}
