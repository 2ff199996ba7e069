package io.pgtrickle.cli;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.sql.Jdbc;
import io.pgtrickle.core.error.SqlErrors;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import picocli.CommandLine.Command;

/** {@code pgtrickle resume}: ends a pause made by {@code pgtrickle drain} ({@code pgtrickle.resume()}). */
@Command(name = "resume", mixinStandardHelpOptions = true,
        description = "Let scheduled refreshes start again after `pgtrickle drain`.")
final class ResumeCommand extends DatabaseCommand {
    @Override
    int execute(PgTrickleEngine engine, PrintWriter out) {
        try (Connection c = engine.dataSource().getConnection()) {
            boolean wasPaused = Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class, "SELECT pgtrickle.resume()"));
            out.println(wasPaused ? "resumed: scheduled refreshes start again" : "refreshes were not paused");
            return 0;
        } catch (SQLException e) {
            throw SqlErrors.translate("resuming", e);
        }
    }

    @Override
    boolean schedulingMatters() {
        return true;
    }
}
