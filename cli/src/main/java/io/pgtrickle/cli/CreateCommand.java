package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import java.io.PrintWriter;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pgtrickle create NAME --query SQL}: creates a stream table and fills it. */
@Command(name = "create", mixinStandardHelpOptions = true,
        description = "Create a stream table: a table holding the result of a query, kept current by the engine.",
        footer = {"", "Examples:",
            "  pgtrickle create order_totals --schedule 30s \\",
            "      --query 'SELECT customer_id, sum(amount) AS total FROM orders GROUP BY 1'",
            "  pgtrickle create reports.daily --query-file daily.sql",
            "  cat daily.sql | pgtrickle create reports.daily --query -"})
final class CreateCommand extends DatabaseCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "Stream table name: name or schema.name.")
    String name;

    @ArgGroup(exclusive = true, multiplicity = "1")
    QueryInput query;

    @Option(names = "--schedule", paramLabel = "S", defaultValue = StreamTableSpec.DEFAULT_SCHEDULE,
            description = "How fresh to keep it: a duration such as 30s, 5m or 1h30m, or 'calculated' (as often as"
                    + " the stream tables reading it need). Default: ${DEFAULT-VALUE}.")
    String schedule;

    @Option(names = "--mode", paramLabel = "M", defaultValue = "AUTO",
            description = "Refresh mode: AUTO, FULL, DIFFERENTIAL or IMMEDIATE. Default: ${DEFAULT-VALUE}.")
    String mode;

    private StreamTableSpec streamTable;

    @Override
    void validate() {
        streamTable = StreamTableSpec.parse(name, query.read(System.in), schedule, mode);
    }

    @Override
    int execute(PgTrickleEngine engine, PrintWriter out) {
        StreamTableRecord st = engine.streamTables().create(streamTable);
        out.println("created stream table " + st.name() + " (" + Describe.rows(engine, st.name()) + ")");
        out.println("  schedule      " + st.schedule().text());
        out.println("  refresh mode  " + Describe.mode(st));
        return 0;
    }

    @Override
    boolean schedulingMatters() {
        return true;
    }
}
