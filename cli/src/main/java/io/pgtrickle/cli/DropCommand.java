package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.StreamTableRecord;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.sql.QualifiedName;
import java.io.PrintWriter;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code pgtrickle drop NAME [--cascade]}: removes a stream table and its storage table. */
@Command(name = "drop", mixinStandardHelpOptions = true,
        description = "Drop a stream table: its table and its catalog entries.")
final class DropCommand extends DatabaseCommand {
    @Parameters(index = "0", paramLabel = "NAME", description = "Stream table name: name or schema.name.")
    String name;

    @Option(names = "--cascade", description = "Also drop the stream tables that read it (else they make the drop fail).")
    boolean cascade;

    private QualifiedName target;

    @Override
    void validate() {
        target = QualifiedName.parse(name);
    }

    @Override
    int execute(PgTrickleEngine engine, PrintWriter out) {
        StreamTables api = engine.streamTables();
        Set<QualifiedName> before = names(api.list());
        api.drop(target, cascade);
        before.removeAll(names(api.list()));
        before.remove(target);
        out.println("dropped stream table " + target);
        if (!before.isEmpty()) {
            out.println("  and, by --cascade, " + before.stream().map(QualifiedName::toString).sorted()
                    .collect(Collectors.joining(", ")));
        }
        return 0;
    }

    private static Set<QualifiedName> names(List<StreamTableRecord> all) {
        return all.stream().map(StreamTableRecord::name).collect(Collectors.toCollection(HashSet::new));
    }
}
