package io.pgtrickle.cli;

import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code pgtrickle bench}: the benchmarks of the engine, one subcommand each. */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {
            "Benchmarks of the engine. Each prints measured figures (and writes CSV files and PNG charts); none"
                    + " fails because of what it measured, only when it cannot measure.",
            "Figures depend on the machine and on what else runs on it: compare runs of one machine.",
            ""},
        subcommands = {BenchTpchCommand.class, BenchIdleCommand.class, BenchLoadCommand.class, BenchCaptureCommand.class,
            BenchOutboxCommand.class, BenchRelayCommand.class, BenchRecursiveCommand.class, BenchImmediateCommand.class,
            BenchParallelCommand.class},
        footer = {"", "See docs/benchmarks.md for a run on this project's machine class and how to read it."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return spec.exitCodeOnInvalidInput();
    }
}
