package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgtrickle.core.capture.CdcMode;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/** {@code bench-capture}'s options, defaults and figures, without a database. */
class BenchCaptureOptionsTest {
    private static BenchCaptureCommand parse(String... args) {
        CommandLine cl = Main.commandLine();
        String[] all = new String[args.length + 1];
        all[0] = "bench-capture";
        System.arraycopy(args, 0, all, 1, args.length);
        CommandLine.ParseResult parsed = cl.parseArgs(all);
        BenchCaptureCommand command = parsed.subcommand().commandSpec().commandLine().getCommand();
        command.validate();
        return command;
    }

    @Test
    void defaults() {
        BenchCaptureCommand c = parse();

        assertThat(c.rate).isEqualTo(1000);
        assertThat(c.duration).isEqualTo(Duration.ofSeconds(20));
        assertThat(c.warmup).isEqualTo(Duration.ofSeconds(3));
        assertThat(c.writers).isEqualTo(4);
        assertThat(c.mode).isEqualTo("wal");
        assertThat(c.commandLine())
                .isEqualTo("bin/pgtrickle bench-capture --mode wal --rate 1000 --writers 4 --duration 20s --warmup 3s");
    }

    @Test
    void parsesEveryOption() {
        BenchCaptureCommand c = parse("--rate", "0", "--duration", "1m30s", "--warmup", "0s", "--writers", "8",
                "--mode", "TRIGGER", "--jdbc-url", "jdbc:postgresql://db/app?password=secret", "--slot-name", "bench_1");

        assertThat(c.rate).isZero();
        assertThat(c.duration).isEqualTo(Duration.ofSeconds(90));
        assertThat(c.warmup).isZero();
        assertThat(c.writers).isEqualTo(8);
        assertThat(c.commandLine()).isEqualTo("bin/pgtrickle bench-capture --mode trigger --rate 0 --writers 8"
                + " --duration 1m30s --warmup 0s --jdbc-url jdbc:postgresql://db/app?password=***");
    }

    @Test
    void impossibleOptionsAreUsageErrors() {
        String[][] cases = {
            {"--rate", "-5"}, {"--duration", "0s"}, {"--duration", "20"}, {"--warmup", "soon"}, {"--writers", "0"},
            {"--writers", "65"}, {"--mode", "auto"}, {"--slot-name", "Bench"}, {"--jdbc-url", "jdbc:mysql://x/y"}};
        String[] expected = {"--rate must be 0", "--duration must be longer than 0s", "invalid duration \"20\"",
            "invalid duration \"soon\"", "--writers must be between 1 and 64", "--writers must be between 1 and 64",
            "--mode must be wal or trigger", "--slot-name must be", "--jdbc-url must be a PostgreSQL JDBC URL"};
        for (int i = 0; i < cases.length; i++) {
            String[] args = new String[cases[i].length + 1];
            args[0] = "bench-capture";
            System.arraycopy(cases[i], 0, args, 1, cases[i].length);
            Cli.Result r = Cli.run(args);
            assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err()).as(String.join(" ", args)).contains(expected[i]);
        }
    }

    @Test
    void helpDocumentsEveryOptionWithItsDefault() {
        Cli.Result r = Cli.run("bench-capture", "--help");

        assertThat(r.exitCode()).isZero();
        assertThat(r.out()).contains("Usage: pgtrickle bench-capture", "--rate=N", "Default: 1000", "--duration=D",
                "Default: 20s", "--writers=N", "Default: 4", "--mode=M", "Default: wal", "--warmup=D", "Default: 3s",
                "--jdbc-url=URL", "--user=NAME", "--slot-name=NAME", "PGTRICKLE_PASSWORD", "temporary",
                "captured_at", "written_at", "p99");
    }

    @Test
    void figuresKeepThreeSignificantDigits() {
        assertThat(BenchCaptureCommand.millis(0.000_052_4)).isEqualTo("0.052");
        assertThat(BenchCaptureCommand.millis(0.001_234)).isEqualTo("1.23");
        assertThat(BenchCaptureCommand.millis(0.012_34)).isEqualTo("12.3");
        assertThat(BenchCaptureCommand.millis(0.1234)).isEqualTo("123");
        assertThat(BenchCaptureCommand.millis(Double.NaN)).isEqualTo("n/a");
        assertThat(BenchCaptureCommand.rate(999.96)).isEqualTo("1000.0");
    }

    @Test
    void modeSelectsTheCaptureOfTheEngine() {
        assertThat(parse().cdcMode).isEqualTo(CdcMode.WAL);
        assertThat(parse("--mode", "Trigger").cdcMode).isEqualTo(CdcMode.TRIGGER);
    }
}
