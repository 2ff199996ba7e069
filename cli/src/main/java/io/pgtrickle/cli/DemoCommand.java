package io.pgtrickle.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code pgtrickle demo}: the org-chart example on a throw-away PostgreSQL 18. */
@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {
            "The org chart of the getting-started guide on a temporary PostgreSQL 18: three chained stream tables"
                    + " (a recursive query, a join with aggregates, a roll-up) kept current by the running engine"
                    + " while four changes cascade through them.",
            "After each change the demo checks every stream table against a fresh run of its defining query and"
                    + " fails (exit code 1) if one differs."})
final class DemoCommand implements Callable<Integer> {
    /** How long one change may take to reach all three layers; the scheduler needs about a second. */
    static final Duration CASCADE_TIMEOUT = Duration.ofSeconds(30);

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        out.println("pgtrickle demo: the org chart of the getting-started guide, kept current by the engine");
        out.println();
        try (LocalServer server = LocalServer.startEphemeral(out)) {
            new OrgChartDemo(server.jdbcUrl(), out, CASCADE_TIMEOUT).run();
        }
        return 0;
    }
}
