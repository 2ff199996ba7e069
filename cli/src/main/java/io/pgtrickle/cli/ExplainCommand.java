package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.sql.QualifiedName;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pgtrickle explain NAME [--analyze]}: how a stream table is maintained, or what its next refresh costs. */
@Command(name = "explain", mixinStandardHelpOptions = true,
        description = "Show how a stream table is maintained: refresh mode and why, columns, sources and the"
                + " SQL a refresh runs.")
final class ExplainCommand extends DatabaseCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "Stream table name: name or schema.name.")
    String name;

    @Option(names = "--analyze", description = "Run the next refresh in a transaction that is rolled back and show"
            + " EXPLAIN (ANALYZE, BUFFERS) of each of its statements and the time per phase: the delta over the"
            + " pending changes, or the full refresh of a FULL stream table. Nothing changes.")
    boolean analyze;

    private QualifiedName target;

    @Override
    void validate() {
        target = QualifiedName.parse(name);
    }

    @Override
    int execute(PgTrickleEngine engine, PrintWriter out) {
        out.print(analyze ? engine.streamTables().explainAnalyze(target).render()
                : engine.streamTables().explain(target).render());
        return 0;
    }
}
