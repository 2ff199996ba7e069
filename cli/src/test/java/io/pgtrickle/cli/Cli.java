package io.pgtrickle.cli;

import java.io.PrintWriter;
import java.io.StringWriter;
import picocli.CommandLine;

/** Runs {@code pgtrickle} in-process, as {@link Main#main} would, and keeps what it printed. */
final class Cli {
    private final CommandLine commandLine = Main.commandLine();
    private final StringWriter out = new StringWriter();
    private final StringWriter err = new StringWriter();

    Cli() {
        commandLine.setOut(new PrintWriter(out, true));
        commandLine.setErr(new PrintWriter(err, true));
    }

    /** What one invocation printed, and its exit code. */
    record Result(int exitCode, String out, String err) {
        @Override
        public String toString() {
            return "exit code " + exitCode + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** Runs one command line on a fresh command tree. */
    static Result run(String... args) {
        return new Cli().execute(args);
    }

    /** Runs one command line against {@code jdbcUrl} with replication slot {@code slot} (slots are per server). */
    static Result runAgainst(String jdbcUrl, String slot, String... args) {
        String[] all = java.util.Arrays.copyOf(args, args.length + 4);
        all[args.length] = "--jdbc-url";
        all[args.length + 1] = jdbcUrl;
        all[args.length + 2] = "--slot-name";
        all[args.length + 3] = slot;
        return run(all);
    }

    Result execute(String... args) {
        int exitCode = commandLine.execute(args);
        return new Result(exitCode, out.toString(), err.toString());
    }

    /** The command object picocli will run for {@code name}, e.g. to stop a {@code run}. */
    <T> T subcommand(String name) {
        return commandLine.getSubcommands().get(name).getCommand();
    }

    String out() {
        return out.toString();
    }

    String err() {
        return err.toString();
    }
}
