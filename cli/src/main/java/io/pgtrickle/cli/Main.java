package io.pgtrickle.cli;

import io.pgtrickle.core.error.PgTrickleException;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.util.Properties;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/** {@code pgtrickle}: run the engine, manage stream tables, try the demo. */
@Command(name = "pgtrickle",
        mixinStandardHelpOptions = true,
        versionProvider = Main.Version.class,
        description = {
            "Stream tables for PostgreSQL: tables defined by a query and kept current by the pg_trickle engine.",
            "",
            "Without --jdbc-url, commands use an embedded PostgreSQL 18 whose data lives in ~/.pgtrickle/pgdata:"
                    + " the one 'pgtrickle run' serves, or one started just for the command.",
            ""},
        subcommands = {
            RunCommand.class, CreateCommand.class, AlterCommand.class, DropCommand.class, RefreshCommand.class,
            StatusCommand.class, DrainCommand.class, ResumeCommand.class, ExplainCommand.class, OutboxCommand.class, DemoCommand.class, BenchCommand.class,
            CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success",
            "1:internal error",
            "2:usage error (unknown option, missing argument)",
            "3:invalid input (name, query, schedule, refresh mode) or a conflict",
            "4:stream table not found",
            "5:cannot connect, or the server cannot start",
            "6:refresh failed",
            "7:drain: refreshes still in flight at the timeout"},
        footer = {"", "Try 'pgtrickle demo' first; 'pgtrickle COMMAND --help' describes each command."})
public final class Main implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-v", "--verbose"}, scope = ScopeType.INHERIT,
            description = "Show the engine's log and the stack trace of errors.")
    boolean verbose;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with our error handling: {@code error: <message>} on stderr and exit codes. */
    public static CommandLine commandLine() {
        CommandLine cl = new CommandLine(new Main());
        cl.setExecutionStrategy(Main::execute);
        cl.setExecutionExceptionHandler(Main::handleError);
        cl.setParameterExceptionHandler(Main::handleUsageError);
        return cl;
    }

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return spec.exitCodeOnInvalidInput();
    }

    private static int execute(ParseResult parseResult) {
        if (isVerbose(parseResult)) {
            Logging.verbose();
        }
        return new CommandLine.RunLast().execute(parseResult);
    }

    private static int handleError(Exception e, CommandLine cmd, ParseResult parseResult) {
        if (e instanceof ParameterException usage) {
            return handleUsageError(usage, new String[0]);
        }
        PrintWriter err = cmd.getErr();
        int exitCode = e instanceof PgTrickleException p ? p.code().exitCode() : 1;
        String message = e.getMessage() == null || e.getMessage().isBlank() ? e.toString() : e.getMessage();
        err.println("error: " + message);
        if (isVerbose(parseResult)) {
            e.printStackTrace(err);
        } else if (exitCode == 1) {
            err.println("(run with --verbose to see where it happened)");
        }
        err.flush();
        return exitCode;
    }

    private static int handleUsageError(ParameterException e, String[] args) {
        CommandLine cmd = e.getCommandLine();
        PrintWriter err = cmd.getErr();
        err.println("error: " + e.getMessage());
        UnmatchedArgumentException.printSuggestions(e, err);
        err.println("Try '" + cmd.getCommandSpec().qualifiedName() + " --help' for more information.");
        err.flush();
        return cmd.getCommandSpec().exitCodeOnInvalidInput();
    }

    private static boolean isVerbose(ParseResult parseResult) {
        for (ParseResult p = parseResult; p != null; p = p.subcommand()) {
            if (p.hasMatchedOption("--verbose")) {
                return true;
            }
        }
        return false;
    }

    /** The version Maven wrote into {@code version.properties} at build time. */
    static final class Version implements IVersionProvider {
        @Override
        public String[] getVersion() throws IOException {
            Properties p = new Properties();
            try (InputStream in = Main.class.getResourceAsStream("version.properties")) {
                if (in != null) {
                    p.load(in);
                }
            }
            return new String[] {
                "pgtrickle " + p.getProperty("version", "(development build)"),
                "PostgreSQL 18 (embedded), Java " + Runtime.version()};
        }
    }
}
