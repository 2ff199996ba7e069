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

    /** Whether to remind the user that nothing refreshes on schedule when no engine runs. */
    boolean schedulingMatters() {
        return false;
    }

    @Override
    public final Integer call() {
        validate();
        try (EngineSession session = connection.open(err())) {
            int exitCode = execute(session.engine(), out());
            if (session.startedServer() && schedulingMatters()) {
                err().println("note: no engine is running for " + connection.dataDir + "; stream tables refresh on"
                        + " schedule while 'pgtrickle run' runs");
            }
            return exitCode;
        } finally {
            out().flush();
            err().flush();
        }
    }

    PrintWriter out() {
        return spec.commandLine().getOut();
    }

    PrintWriter err() {
        return spec.commandLine().getErr();
    }
}
