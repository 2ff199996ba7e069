package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.error.SqlErrors;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgtrickle drain}: pauses scheduled refreshes and waits for those in flight ({@code pgtrickle.drain()}). */
@Command(name = "drain", mixinStandardHelpOptions = true,
        description = {"Pause scheduled refreshes: none starts from now on (a refresh asked for by name still runs),"
                + " the ones in flight finish, and it reports when no refresh runs. The pause is kept in the catalog,"
                + " across engine restarts, until `pgtrickle resume`."},
        footer = {"", "Exit code 7: refreshes were still in flight when the timeout passed (they stay paused)."})
final class DrainCommand extends DatabaseCommand {
    /** Refreshes still in flight at the timeout. */
    static final int NOT_QUIET = io.pgtrickle.core.error.ErrorCode.NOT_QUIET.exitCode();

    @Option(names = "--timeout", paramLabel = "D", defaultValue = "60s", converter = DurationConverter.class,
            description = "How long to wait for refreshes in flight (default: ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    int execute(PgTrickleEngine engine, PrintWriter out) {
        try (Connection c = engine.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT quiet, in_flight, (extract(epoch FROM waited) * 1000)::bigint"
                     + " FROM pgtrickle.drain(?::interval)")) {
            ps.setString(1, timeout.toMillis() + " milliseconds");
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                if (rs.getBoolean(1)) {
                    out.printf("drained: no refresh in flight (waited %d ms); scheduled refreshes are paused until"
                            + " `pgtrickle resume`%n", rs.getLong(3));
                    return 0;
                }
                out.printf("not quiet after %d ms: %d refresh(es) still in flight; no new one starts until"
                        + " `pgtrickle resume`%n", rs.getLong(3), rs.getInt(2));
                return NOT_QUIET;
            }
        } catch (SQLException e) {
            throw SqlErrors.translate("draining", e);
        }
    }
}
