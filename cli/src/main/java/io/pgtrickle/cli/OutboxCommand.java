package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.outbox.OutboxChange;
import io.pgtrickle.core.outbox.OutboxDelta;
import io.pgtrickle.core.outbox.OutboxStatus;
import io.pgtrickle.core.outbox.Outboxes;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code pgtrickle outbox enable|disable|status|tail}: the outbox of a stream table. */
@Command(name = "outbox", mixinStandardHelpOptions = true,
        description = {"The outbox of a stream table: every refresh writes its row-level delta there,"
                + " for publishers and consumer groups to read (docs/outbox-inbox.md).", ""},
        subcommands = {OutboxCommand.Enable.class, OutboxCommand.Disable.class, OutboxCommand.Status.class,
            OutboxCommand.Tail.class})
final class OutboxCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().usage(spec.commandLine().getErr());
        return spec.exitCodeOnInvalidInput();
    }

    @Command(name = "enable", mixinStandardHelpOptions = true,
            description = "Give a stream table an outbox; its first entry holds the rows it has now.")
    static final class Enable extends DatabaseCommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "Stream table name: name or schema.name.")
        String name;

        @Option(names = "--retention-hours", defaultValue = "24", description = "Keep entries this long (default: ${DEFAULT-VALUE}).")
        int retentionHours;

        @Option(names = "--inline-threshold-rows", defaultValue = "100",
                description = "Deltas of up to this many rows are inline in their entry (default: ${DEFAULT-VALUE}).")
        int inlineThresholdRows;

        @Override
        int execute(PgTrickleEngine engine, PrintWriter out) {
            engine.outboxes().enable(name, retentionHours, inlineThresholdRows);
            out.println("enabled the outbox of " + name);
            return 0;
        }
    }

    @Command(name = "disable", mixinStandardHelpOptions = true,
            description = "Remove a stream table's outbox and everything in it.")
    static final class Disable extends DatabaseCommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "Stream table name: name or schema.name.")
        String name;

        @Option(names = "--if-exists", description = "Succeed when it has no outbox.")
        boolean ifExists;

        @Override
        int execute(PgTrickleEngine engine, PrintWriter out) {
            engine.outboxes().disable(name, ifExists);
            out.println("disabled the outbox of " + name);
            return 0;
        }
    }

    @Command(name = "status", mixinStandardHelpOptions = true, description = "What a stream table's outbox holds.")
    static final class Status extends DatabaseCommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "Stream table name: name or schema.name.")
        String name;

        @Override
        int execute(PgTrickleEngine engine, PrintWriter out) {
            OutboxStatus s = engine.outboxes().status(name);
            TextTable table = TextTable.of("stream table", "entries", "changes", "offsets", "oldest",
                    "newest", "retention", "inline up to");
            table.add(List.of(s.streamTable(), Long.toString(s.entries()), Long.toString(s.changes()),
                    s.firstOffset() == null ? "-" : s.firstOffset() + ".." + s.lastOffset(),
                    s.oldestAt() == null ? "-" : s.oldestAt().toString(), s.newestAt() == null ? "-" : s.newestAt().toString(),
                    s.retentionHours() + " h", s.inlineThresholdRows() + " rows"));
            out.print(table.render(""));
            return 0;
        }
    }

    /** Prints changes as they commit, one JSON object a line, like a console consumer. */
    @Command(name = "tail", mixinStandardHelpOptions = true,
            description = "Print a stream table's changes as refreshes commit them, one JSON object a line,"
                    + " until interrupted.")
    static final class Tail extends DatabaseCommand {
        @Parameters(index = "0", paramLabel = "NAME", description = "Stream table name: name or schema.name.")
        String name;

        @Option(names = "--from-beginning", description = "Start with the oldest entry kept, not with the next one.")
        boolean fromBeginning;

        @Option(names = "--poll-interval", defaultValue = "500ms", converter = DurationConverter.class,
                description = "How often to look for new entries (default: ${DEFAULT-VALUE}).")
        Duration pollInterval;

        @Option(names = "--max-entries", description = "Stop after printing this many entries.")
        Integer maxEntries;

        @Override
        int execute(PgTrickleEngine engine, PrintWriter out) {
            Outboxes outboxes = engine.outboxes();
            OutboxStatus status = outboxes.status(name);
            long after = fromBeginning || status.lastOffset() == null ? 0 : status.lastOffset();
            int printed = 0;
            while (maxEntries == null || printed < maxEntries) {
                List<OutboxDelta> entries = outboxes.read(name, after, maxEntries == null ? 100 : maxEntries - printed);
                for (OutboxDelta d : entries) {
                    for (OutboxChange c : d.changes()) {
                        out.println("{\"offset\": " + d.offset() + ", \"row_index\": " + c.rowIndex() + ", \"op\": \""
                                + c.op() + "\", \"key\": " + c.key() + ", \"before\": " + c.before() + ", \"after\": "
                                + c.after() + ", \"refresh_id\": " + d.refreshId() + ", \"full_refresh\": "
                                + d.fullRefresh() + "}");
                    }
                    after = d.offset();
                    printed++;
                }
                out.flush();
                if (entries.isEmpty()) {
                    try {
                        Thread.sleep(pollInterval.toMillis());
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return 0;
                    }
                }
            }
            return 0;
        }
    }
}
