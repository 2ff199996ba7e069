package io.pgtrickle.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * The options of {@code bench tpch}, {@code bench idle}, {@code bench load}, {@code bench recursive},
 * {@code bench immediate} and {@code bench parallel}, without a database.
 */
class BenchOptionsTest {
    @SuppressWarnings("unchecked")
    private static <T> T parse(String sub, String... args) {
        String[] all = new String[args.length + 2];
        all[0] = "bench";
        all[1] = sub;
        System.arraycopy(args, 0, all, 2, args.length);
        CommandLine.ParseResult parsed = Main.commandLine().parseArgs(all);
        return (T) parsed.subcommand().subcommand().commandSpec().userObject();
    }

    @Test
    void tpchDefaultsAndEveryOption() {
        BenchTpchCommand d = parse("tpch");
        d.validate();
        assertThat(d.commandLine()).isEqualTo("bin/pgtrickle bench tpch --sf 0.01 --queries all --change 0.1%,1%,10%"
                + " --cycles 3 --refresh-timeout 2m --seed 42 --output bench-results --capture wal");
        assertThat(d.queryNumbers).hasSize(22);

        BenchTpchCommand c = parse("tpch", "--sf", "0.1", "--queries", "1-3,q22", "--change", "0.5%,5,1000rows",
                "--cycles", "5", "--refresh-timeout", "30s", "--seed", "7", "--output", "out", "--no-auto", "--capture", "TRIGGER",
                "--jdbc-url", "jdbc:postgresql://db/x?password=secret", "--user", "u", "--slot-name", "s1");
        c.validate();
        assertThat(c.queryNumbers).containsExactly(1, 2, 3, 22);
        assertThat(c.refreshTimeout).isEqualTo(Duration.ofSeconds(30));
        assertThat(c.output).isEqualTo(Path.of("out"));
        assertThat(c.noAuto).isTrue();
        assertThat(d.noAuto).isFalse();
        assertThat(c.commandLine()).isEqualTo("bin/pgtrickle bench tpch --sf 0.1 --queries 1-3,q22 --change 0.5%,5%,1000rows"
                + " --cycles 5 --refresh-timeout 30s --seed 7 --output out --no-auto --capture trigger"
                + " --jdbc-url jdbc:postgresql://db/x?password=***");
    }

    @Test
    void idleDefaultsAndEveryOption() {
        BenchIdleCommand d = parse("idle");
        d.validate();
        assertThat(d.commandLine()).isEqualTo("bin/pgtrickle bench idle --sf 0.01 --queries all --repeats 10"
                + " --stream-tables 100 --refresh-timeout 2m --output bench-results --capture wal");

        BenchIdleCommand c = parse("idle", "--sf", "0.05", "--queries", "6", "--repeats", "3", "--stream-tables", "7",
                "--refresh-timeout", "10s", "--output", "o");
        c.validate();
        assertThat(c.queryNumbers).containsExactly(6);
        assertThat(c.streamTables).isEqualTo(7);
    }

    @Test
    void loadDefaultsAndEveryOption() {
        BenchLoadCommand d = parse("load");
        d.validate();
        assertThat(d.rateList).containsExactly(1000L, 5000L);
        assertThat(d.audit).isFalse();
        assertThat(d.seed).as("a seed is drawn, to be printed").isPositive();
        assertThat(d.commandLine()).isEqualTo("bin/pgtrickle bench load --rates 1000,5000 --duration 30s --warmup 5s"
                + " --writers 4 --batch 1 --schedule 250ms --tick 100ms --poll 10ms --seed " + d.seed
                + " --output bench-results --capture wal");

        BenchLoadCommand c = parse("load", "--rates", "200", "--duration", "5s", "--warmup", "0s", "--writers", "2",
                "--batch", "10", "--schedule", "1s", "--tick", "50ms", "--poll", "5ms", "--drain-timeout", "20s",
                "--audit", "--seed", "7");
        c.validate();
        assertThat(c.rateList).containsExactly(200L);
        assertThat(c.drainTimeout).isEqualTo(Duration.ofSeconds(20));
        assertThat(c.commandLine()).startsWith("bin/pgtrickle bench load --rates 200 --duration 5s --warmup 0s"
                + " --writers 2 --batch 10 --schedule 1s --tick 50ms --poll 5ms --audit --seed 7");
    }

    @Test
    void recursiveDefaultsAndEveryOption() {
        BenchRecursiveCommand d = parse("recursive");
        d.validate();
        assertThat(d.commandLine()).isEqualTo("bin/pgtrickle bench recursive --nodes 200000 --fanout 5"
                + " --chain-depth 1500 --rounds 5 --output bench-results --capture wal");

        BenchRecursiveCommand c = parse("recursive", "--nodes", "2000", "--fanout", "3", "--chain-depth", "50",
                "--rounds", "1", "--output", "o", "--capture", "trigger");
        assertThat(c.validate()).isEqualTo(new io.pgtrickle.bench.recursive.RecursiveOptions(2000, 3, 50, 1));
    }

    @Test
    void immediateDefaultsAndEveryOption() {
        BenchImmediateCommand d = parse("immediate");
        assertThat(d.validate()).isEqualTo(new io.pgtrickle.bench.immediate.ImmediateOptions(10, 2000, 200, 42));
        assertThat(d.commandLine()).isEqualTo("bin/pgtrickle bench immediate --scale 10 --statements 2000 --warmup 200"
                + " --seed 42 --output bench-results --capture wal");
        assertThat(d.validate().accounts()).isEqualTo(1_000_000);
        assertThat(d.validate().branches()).isEqualTo(10);
        assertThat(d.validate().tellers()).isEqualTo(100);

        BenchImmediateCommand c = parse("immediate", "--scale", "0.01", "--statements", "50", "--warmup", "0",
                "--seed", "9", "--output", "o", "--capture", "trigger", "--jdbc-url",
                "jdbc:postgresql://db/x?password=secret");
        io.pgtrickle.bench.immediate.ImmediateOptions o = c.validate();
        assertThat(o.accounts()).isEqualTo(1000);
        assertThat(o.branches()).isEqualTo(1);
        assertThat(o.tellers()).isEqualTo(10);
        assertThat(c.commandLine()).isEqualTo("bin/pgtrickle bench immediate --scale 0.01 --statements 50 --warmup 0"
                + " --seed 9 --output o --capture trigger --jdbc-url jdbc:postgresql://db/x?password=***");
        assertThat(((BenchImmediateCommand) parse("immediate", "--scale", "2.5")).validate().branches()).isEqualTo(3);
    }

    @Test
    void parallelDefaultsAndEveryOption() {
        BenchParallelCommand d = parse("parallel");
        assertThat(d.validate()).isEqualTo(new io.pgtrickle.bench.parallel.ParallelOptions(100, 4, 200_000, 10_000,
                java.util.List.of(1, 2, 4, 8), 5, true));
        assertThat(d.commandLine()).isEqualTo("bin/pgtrickle bench parallel --stream-tables 100 --dependants 4"
                + " --rows 200000 --changed-rows 10000 --concurrency 1,2,4,8 --sources shared --rounds 5"
                + " --output bench-results"
                + " --capture wal");
        assertThat(d.validate().maxConcurrency()).isEqualTo(8);
        assertThat(d.validate().total()).isEqualTo(104);

        BenchParallelCommand c = parse("parallel", "--stream-tables", "6", "--dependants", "0", "--rows", "2000",
                "--changed-rows", "200", "--concurrency", "1, 3", "--sources", "OWN", "--rounds", "1", "--output", "o", "--capture",
                "trigger", "--jdbc-url", "jdbc:postgresql://db/x?password=secret");
        io.pgtrickle.bench.parallel.ParallelOptions o = c.validate();
        assertThat(o).isEqualTo(new io.pgtrickle.bench.parallel.ParallelOptions(6, 0, 2000, 200,
                java.util.List.of(1, 3), 1, false));
        assertThat(o.maxConcurrency()).isEqualTo(3);
        assertThat(c.commandLine()).isEqualTo("bin/pgtrickle bench parallel --stream-tables 6 --dependants 0"
                + " --rows 2000 --changed-rows 200 --concurrency 1,3 --sources own --rounds 1 --output o --capture trigger"
                + " --jdbc-url jdbc:postgresql://db/x?password=***");
    }

    @Test
    void impossibleOptionsAreUsageErrors() {
        String[][] cases = {
            {"tpch", "--sf", "0.001"}, {"tpch", "--queries", "23"}, {"tpch", "--change", "0%"},
            {"tpch", "--change", "200000rows"}, {"tpch", "--cycles", "0"},
            {"tpch", "--capture", "auto"}, {"tpch", "--refresh-timeout", "0s"}, {"idle", "--repeats", "0"},
            {"idle", "--stream-tables", "0"}, {"load", "--rates", "fast"}, {"load", "--schedule", "10ms"},
            {"load", "--writers", "0"}, {"load", "--batch", "0"}, {"load", "--jdbc-url", "jdbc:mysql://x/y"},
            {"recursive", "--nodes", "50"}, {"recursive", "--fanout", "1"}, {"recursive", "--chain-depth", "5"},
            {"recursive", "--chain-depth", "9000"}, {"recursive", "--rounds", "0"}, {"immediate", "--scale", "0"},
            {"immediate", "--scale", "5000"}, {"immediate", "--statements", "0"}, {"immediate", "--warmup", "-1"},
            {"immediate", "--capture", "auto"}, {"parallel", "--stream-tables", "0"},
            {"parallel", "--stream-tables", "6", "--dependants", "4"}, {"parallel", "--rows", "50"},
            {"parallel", "--changed-rows", "0"}, {"parallel", "--concurrency", "1,two"},
            {"parallel", "--concurrency", "0,2"}, {"parallel", "--concurrency", "1,2,1"},
            {"parallel", "--rounds", "0"}, {"parallel", "--sources", "many"}};
        String[] expected = {"--sf must be between 0.01 and 100", "TPC-H queries are 1 to 22", "a change size must be more",
            "change 200000rows needs 12,500 orders each way, more than half of the 15,000 orders", "--cycles must be between", "--capture must be wal or trigger", "--refresh-timeout must be longer",
            "--repeats must be between", "--stream-tables must be between", "--rates must be rows per second",
            "--schedule", "--writers must be between", "--batch must be between",
            "--jdbc-url must be a PostgreSQL JDBC URL", "--nodes must be between 100 and 50000000",
            "--fanout must be between 2 and 1000", "--chain-depth must be between 10 and 5000",
            "--chain-depth must be between 10 and 5000", "--rounds must be between 1 and 1000",
            "--scale must be between 0.001 and 1000", "--scale must be between 0.001 and 1000",
            "--statements must be between 1 and 1000000", "--warmup must be between 0 and 1000000",
            "--capture must be wal or trigger", "--stream-tables must be between 1 and 2000",
            "--dependants must be between 0 and half of --stream-tables (3)", "--rows must be between --stream-tables",
            "--changed-rows must be between 1 and --rows", "--concurrency must be levels such as 1,2,4,8",
            "--concurrency levels must be between 1 and 64", "--concurrency lists 1 twice",
            "--rounds must be between 1 and 1000", "--sources must be shared or own"};
        for (int i = 0; i < cases.length; i++) {
            String[] args = new String[cases[i].length + 1];
            args[0] = "bench";
            System.arraycopy(cases[i], 0, args, 1, cases[i].length);
            Cli.Result r = Cli.run(args);
            assertThat(r.exitCode()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err()).as(String.join(" ", args)).contains(expected[i]);
        }
    }

    /** The help text with line breaks and indentation folded, so phrases can be looked for. */
    private static String help(String... args) {
        Cli.Result r = Cli.run(args);
        assertThat(r.exitCode()).isZero();
        return r.out().replaceAll("\\s+", " ");
    }

    @Test
    void helpDocumentsEveryOption() {
        assertThat(help("bench", "--help")).contains("Usage: pgtrickle bench", "tpch", "idle", "load", "capture",
                "outbox", "relay", "recursive", "immediate", "parallel");
        assertThat(help("bench", "tpch", "--help")).contains("--sf=SF", "Default: 0.01", "--queries=LIST",
                "--change=SIZES", "Default: 0.1%,1%,10%", "--cycles=N", "--refresh-timeout=D", "--seed=N",
                "--output=DIR", "--jdbc-url=URL", "--user=NAME", "--slot-name=NAME", "--capture=MODE",
                "REFRESH MATERIALIZED VIEW", "multiset");
        assertThat(help("bench", "idle", "--help")).contains("--sf=SF", "--queries=LIST", "--repeats=N",
                "--stream-tables=N", "Default: 100", "--refresh-timeout=D", "--output=DIR", "--capture=MODE");
        assertThat(help("bench", "load", "--help")).contains("--rates=LIST", "Default: 1000,5000",
                "--duration=D", "--warmup=D", "--writers=N", "--batch=N", "--schedule=S", "--tick=D", "--poll=D",
                "--drain-timeout=D", "--output=DIR", "--capture=MODE", "frontier");
        assertThat(help("bench", "recursive", "--help")).contains("--nodes=N", "Default: 200000", "--fanout=F",
                "--chain-depth=D", "Default: 1500", "--rounds=N", "--output=DIR", "--capture=MODE", "recursive.csv");
        assertThat(help("bench", "immediate", "--help")).contains("--scale=S", "Default: 10", "--statements=N",
                "Default: 2000", "--warmup=N", "Default: 200", "--seed=N", "--output=DIR", "--jdbc-url=URL",
                "--user=NAME", "--capture=MODE", "pgbench_accounts a JOIN pgbench_branches b USING (bid)",
                "IMMEDIATE aggregate", "multiset", "immediate.csv and immediate.md");
        assertThat(help("bench", "parallel", "--help")).contains("--stream-tables=N", "Default: 100", "--dependants=N",
                "--rows=N", "Default: 200000", "--sources=KIND", "Default: shared", "WHERE id % n = i GROUP BY grp", "--changed-rows=N", "Default: 10000", "--concurrency=LIST",
                "Default: 1,2,4,8", "--rounds=N", "--output=DIR", "--jdbc-url=URL", "--capture=MODE", "multiset",
                "parallel.csv and parallel.md");
    }
}
