package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.error.SqlErrors;
import io.pgtrickle.core.lifecycle.StatusRow;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import picocli.CommandLine.Command;

/**
 * {@code pgtrickle status}: one line per stream table, as {@code pgtrickle.pgt_status()} reports it,
 * then the health of change capture (buffers, replication slot) and whether an engine runs.
 */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = {
            "Show every stream table: status, refresh modes, schedule, capture mode, freshness and errors"
                    + " (the rows of pgtrickle.pgt_status()); then the health of change capture and of the engine:",
            "  change buffers    per source table: capture mode (WAL or TRIGGER), rows waiting, size, oldest change"
                    + " (pgtrickle.change_buffer_sizes())",
            "  replication slot  the slot of WAL capture: active, WAL status, WAL it retains, how far capture lags"
                    + " (pgtrickle.slot_health())",
            "  engine            whether an engine ('pgtrickle run') owns the database, so that stream tables"
                    + " refresh on schedule (pgtrickle.engine_running())"})
final class StatusCommand extends DatabaseCommand {
    private static final int LAST_ERROR_WIDTH = 60;

    @Override
    int execute(PgTrickleEngine engine, PrintWriter out) {
        printStreamTables(engine.streamTables().status(), out);
        try (Connection c = engine.dataSource().getConnection()) {
            out.println();
            printCapture(c, out);
        } catch (SQLException e) {
            throw SqlErrors.translate("cannot read the health of change capture", e);
        }
        out.println();
        out.println(CaptureHealth.engineRunning(engine.dataSource())
                ? "an engine is running against this database: stream tables refresh on schedule"
                : connection.noEngineRunning());
        return 0;
    }

    static void printStreamTables(List<StatusRow> rows, PrintWriter out) {
        out.println("stream tables");
        if (rows.isEmpty()) {
            out.println("no stream tables yet; create one with: pgtrickle create NAME --query SQL");
            return;
        }
        TextTable table = new TextTable(
                List.of("name", "status", "mode", "effective", "schedule", "capture", "data timestamp", "staleness",
                        "errors", "last error"),
                List.of(false, false, false, false, false, false, false, true, true, false));
        for (StatusRow r : rows) {
            table.add(List.of(r.name(), r.status(), Objects.toString(r.refreshMode(), ""),
                    Objects.toString(r.effectiveMode(), ""), Objects.toString(r.schedule(), ""),
                    Objects.toString(r.cdcMode(), ""), Formats.timestamp(r.dataTimestamp()),
                    Formats.age(r.staleness()), Objects.toString(r.consecutiveErrors(), ""),
                    Formats.abbreviate(r.lastError(), LAST_ERROR_WIDTH)));
        }
        out.print(table.render(""));
    }

    /** The sections "change buffers" and "replication slot". */
    static void printCapture(Connection c, PrintWriter out) throws SQLException {
        out.println("change buffers");
        List<CaptureHealth.Buffer> buffers = CaptureHealth.buffers(c);
        if (buffers.isEmpty()) {
            out.println("none: no stream table reads a table yet");
        } else {
            TextTable table = new TextTable(
                    List.of("source", "capture", "buffer table", "pending rows", "size", "oldest change"),
                    List.of(false, false, false, true, true, false));
            for (CaptureHealth.Buffer b : buffers) {
                table.add(List.of(b.source(), b.cdcMode(), b.bufferTable(), Long.toString(b.pendingRows()),
                        Formats.bytes(b.bufferBytes()), Formats.timestamp(b.oldestChangeAt())));
            }
            out.print(table.render(""));
        }

        out.println();
        out.println("replication slot");
        Optional<CaptureHealth.Slot> slot = CaptureHealth.slot(c);
        if (slot.isEmpty()) {
            String recorded = CaptureHealth.recordedSlotName(c);
            out.println(recorded == null ? "no replication slot (trigger capture)"
                    : "no replication slot: " + recorded + " does not exist in this database (an engine with WAL"
                            + " capture creates it when it opens)");
            return;
        }
        CaptureHealth.Slot s = slot.get();
        TextTable table = new TextTable(
                List.of("slot", "active", "wal status", "retained wal", "capture lag", "last event"),
                List.of(false, false, false, true, true, false));
        table.add(List.of(s.name(), s.active() ? "yes" : "no", Objects.toString(s.walStatus(), ""),
                Formats.bytes(s.retainedWalBytes()), Formats.bytes(s.lagBytes()),
                s.lastEventAt() == null ? "never" : Formats.timestamp(s.lastEventAt())));
        out.print(table.render(""));
    }
}
