package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.lifecycle.StatusRow;
import java.io.PrintWriter;
import java.util.List;
import java.util.Objects;
import picocli.CommandLine.Command;

/** {@code pgtrickle status}: one line per stream table, as {@code pgtrickle.pgt_status()} reports it. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Show every stream table: status, refresh modes, schedule, freshness and errors"
                + " (the rows of pgtrickle.pgt_status()).")
final class StatusCommand extends DatabaseCommand {
    private static final int LAST_ERROR_WIDTH = 60;

    @Override
    int execute(PgTrickleEngine engine, PrintWriter out) {
        List<StatusRow> rows = engine.streamTables().status();
        if (rows.isEmpty()) {
            out.println("no stream tables yet; create one with: pgtrickle create NAME --query SQL");
            return 0;
        }
        TextTable table = new TextTable(
                List.of("name", "status", "mode", "effective", "schedule", "data timestamp", "staleness", "errors",
                        "last error"),
                List.of(false, false, false, false, false, false, true, true, false));
        for (StatusRow r : rows) {
            table.add(List.of(r.name(), r.status(), Objects.toString(r.refreshMode(), ""),
                    Objects.toString(r.effectiveMode(), ""), Objects.toString(r.schedule(), ""),
                    Formats.timestamp(r.dataTimestamp()), Formats.age(r.staleness()),
                    Objects.toString(r.consecutiveErrors(), ""),
                    Formats.abbreviate(r.lastError(), LAST_ERROR_WIDTH)));
        }
        out.print(table.render(""));
        return 0;
    }
}
