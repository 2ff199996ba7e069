package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.sql.QualifiedName;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code pgtrickle explain NAME}: how a stream table is maintained. */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = "Show how a stream table is maintained: refresh mode and why, columns, sources and the"
                + " SQL a refresh runs.")
final class ExplainCommand extends DatabaseCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "Stream table name: name or schema.name.")
    String name;

    private QualifiedName target;

    @Override
    void validate() {
        target = QualifiedName.parse(name);
    }

    @Override
    int execute(PgTrickleEngine engine, PrintWriter out) {
        out.print(engine.streamTables().explain(target).render());
        return 0;
    }
}
