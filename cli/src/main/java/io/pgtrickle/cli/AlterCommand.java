package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.Status;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.lifecycle.AlterSpec;
import io.pgtrickle.core.sql.QualifiedName;
import java.io.PrintWriter;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;

/** {@code pgtrickle alter NAME ...}: changes the query, schedule, refresh mode or status. */
@Command(name = "alter", mixinStandardHelpOptions = true,
        description = "Change a stream table's query, schedule or refresh mode, or suspend / resume it."
                + " A new query migrates the table in place and refills it.",
        footer = {"", "Examples:",
            "  pgtrickle alter order_totals --schedule 5m",
            "  pgtrickle alter order_totals --suspend"})
final class AlterCommand extends DatabaseCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "Stream table name: name or schema.name.")
    String name;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    QueryInput query;

    @Option(names = "--schedule", paramLabel = "S",
            description = "New schedule: a duration such as 30s, 5m or 1h30m, or 'calculated'.")
    String schedule;

    @Option(names = "--mode", paramLabel = "M", description = "New refresh mode: AUTO, FULL, DIFFERENTIAL or IMMEDIATE.")
    String mode;

    @ArgGroup(exclusive = true, multiplicity = "0..1")
    StatusChange status;

    /** {@code --suspend} or {@code --resume}. */
    static final class StatusChange {
        @Option(names = "--suspend", required = true, description = "Stop refreshing it on schedule.")
        boolean suspend;

        @Option(names = "--resume", required = true, description = "Refresh it on schedule again (also after errors).")
        boolean resume;

        Status target() {
            return suspend ? Status.SUSPENDED : Status.ACTIVE;
        }
    }

    private QualifiedName target;
    private AlterSpec change;

    @Override
    void validate() {
        target = QualifiedName.parse(name);
        AlterSpec wanted = AlterSpec.none();
        if (query != null) {
            wanted = wanted.withQuery(query.read(System.in));
        }
        if (schedule != null) {
            wanted = wanted.withSchedule(schedule);
        }
        if (mode != null) {
            wanted = wanted.withRefreshMode(mode);
        }
        if (status != null) {
            wanted = wanted.withStatus(status.target());
        }
        if (wanted.isEmpty()) {
            throw new ParameterException(spec.commandLine(),
                    "nothing to alter: give --query, --query-file, --schedule, --mode, --suspend or --resume");
        }
        change = wanted;
    }

    @Override
    int execute(PgTrickleEngine engine, PrintWriter out) {
        StreamTableRecord st = engine.streamTables().alter(target, change, null);
        out.println("altered stream table " + st.name());
        out.println("  schedule      " + st.schedule().text());
        out.println("  refresh mode  " + Describe.mode(st));
        out.println("  status        " + st.status());
        return 0;
    }

    @Override
    boolean schedulingMatters() {
        return change.status().isPresent() || change.schedule().isPresent();
    }
}
