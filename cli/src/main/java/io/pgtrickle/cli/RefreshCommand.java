package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.refresh.RefreshResult;
import io.pgtrickle.core.sql.QualifiedName;
import java.io.PrintWriter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code pgtrickle refresh NAME}: brings a stream table up to date now. */
@Command(name = "refresh", mixinStandardHelpOptions = true,
        description = "Refresh a stream table now, whatever its schedule, and print what changed.")
final class RefreshCommand extends DatabaseCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "Stream table name: name or schema.name.")
    String name;

    private QualifiedName target;

    @Override
    void validate() {
        target = QualifiedName.parse(name);
    }

    @Override
    int execute(PgTrickleEngine engine, PrintWriter out) {
        RefreshResult r = engine.streamTables().refresh(target);
        out.printf("refreshed %s (%s): %d %s inserted, %d deleted in %d ms%n", r.name(), r.action(),
                r.rowsInserted(), r.rowsInserted() == 1 ? "row" : "rows", r.rowsDeleted(), r.took().toMillis());
        return 0;
    }
}
