package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * A one-shot command against the database: checks its input, opens the engine (without starting
 * the scheduler), does its work and closes again. Tables and messages go to stdout, progress and
 * hints to stderr.
 */
abstract class DatabaseCommand implements Callable<Integer> {
    @Mixin
    ConnectionOptions connection;

    @Spec
    CommandSpec spec;

    /** Parses and checks the arguments before anything connects, so typos fail fast. */
    void validate() {
    }

    /** Does the work; returns the exit code. */
    abstract int execute(PgTrickleEngine engine, PrintWriter out);

    /**
     * Whether to remind the user that nothing refreshes on schedule when no engine runs against
     * the database ({@code pgtrickle.engine_running()}).
     */
    boolean schedulingMatters() {
        return false;
    }

    @Override
    public final Integer call() {
        validate();
        try (EngineSession session = connection.open(err())) {
            int exitCode = execute(session.engine(), out());
            if (schedulingMatters() && !engineRunning(session)) {
                err().println("note: " + connection.noEngineRunning());
            }
            return exitCode;
        } finally {
            out().flush();
            err().flush();
        }
    }

    /** Whether an engine runs against the database; true when that cannot be told, so no false alarm is raised. */
    private static boolean engineRunning(EngineSession session) {
        try {
            return CaptureHealth.engineRunning(session.engine().dataSource());
        } catch (RuntimeException e) {
            return true;
        }
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }
}
