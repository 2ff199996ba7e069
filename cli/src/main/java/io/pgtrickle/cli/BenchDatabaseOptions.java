package io.pgtrickle.cli;

import io.pgtrickle.bench.Sql;
import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Locale;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Where a {@code bench} subcommand runs: a throw-away PostgreSQL 18 (durable like the one of
 * {@code pgtrickle run}), or the server of {@code --jdbc-url}; and how the engine captures changes.
 * With a lasting database, a run removes what it made, the replication slot included when it
 * created it.
 */
final class BenchDatabaseOptions {
    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--jdbc-url", paramLabel = "URL", defaultValue = "${env:PGTRICKLE_JDBC_URL}",
            description = "PostgreSQL to use (env PGTRICKLE_JDBC_URL), best a database of its own, e.g."
                    + " jdbc:postgresql://localhost:5432/bench. Without it, a temporary PostgreSQL 18 (fsync on) is"
                    + " started for this run and removed afterwards. The password is read from env "
                    + ConnectionOptions.PASSWORD_VARIABLE + " only.")
    String jdbcUrl;

    @Option(names = "--user", paramLabel = "NAME", defaultValue = "${env:PGTRICKLE_USER}",
            description = ConnectionOptions.USER_HELP)
    String user;

    @Option(names = "--slot-name", paramLabel = "NAME", defaultValue = "${env:PGTRICKLE_SLOT_NAME}",
            description = ConnectionOptions.SLOT_NAME_HELP)
    String slotName;

    @Option(names = "--capture", paramLabel = "MODE", defaultValue = "wal",
            description = "Change capture of the engine: wal (logical decoding through a replication slot) or"
                    + " trigger. Default: ${DEFAULT-VALUE}.")
    String capture;

    CdcMode cdcMode;

    /** Rejects malformed options as usage errors (exit code 2). */
    void validate() {
        ConnectionOptions.validateDatabase(mixee.commandLine(), jdbcUrl, slotName);
        cdcMode = switch (capture.strip().toLowerCase(Locale.ROOT)) {
            case "wal" -> CdcMode.WAL;
            case "trigger" -> CdcMode.TRIGGER;
            default -> throw new ParameterException(mixee.commandLine(), "--capture must be wal or trigger, got "
                    + capture);
        };
    }

    boolean external() {
        return jdbcUrl != null && !jdbcUrl.isBlank();
    }

    /** The options that repeat this database choice in a printed command line (password masked). */
    String commandLineOptions() {
        StringBuilder s = new StringBuilder(" --capture ").append(cdcMode.name().toLowerCase(Locale.ROOT));
        if (external()) {
            s.append(" --jdbc-url ").append(ConnectionOptions.redact(jdbcUrl));
        }
        return s.toString();
    }

    /** What a benchmark does with the engine; may throw anything. */
    interface Body {
        int run(PgTrickleEngine engine, EngineConfig config, String where) throws Exception;
    }

    /**
     * Starts the server (unless external), opens the engine with {@code tick} as scheduler tick,
     * runs {@code body}, closes the engine and removes a replication slot this run created.
     */
    int withEngine(PrintWriter err, Duration tick, Body body) throws Exception {
        return withEngine(err, tick, UnaryOperator.identity(), body);
    }

    /**
     * As {@link #withEngine(PrintWriter, Duration, Body)}, with {@code modifier} applied to the
     * engine's configuration last (e.g. {@link EngineConfig#withMaxConcurrentRefreshes}, for a bigger pool).
     */
    int withEngine(PrintWriter err, Duration tick, UnaryOperator<EngineConfig> modifier, Body body) throws Exception {
        try (LocalServer server = external() ? null : LocalServer.startTemporaryDurable(err)) {
            String url = server == null ? jdbcUrl : server.jdbcUrl();
            EngineConfig config = modifier.apply(ConnectionOptions.engineConfig(url, user, slotName).withCdcMode(cdcMode)
                    .withSchedulerTick(tick));
            boolean slotExisted = cdcMode != CdcMode.WAL || slotExists(config);
            try (PgTrickleEngine engine = PgTrickleEngine.open(config)) {
                return body.run(engine, config, server == null ? "at " + config.redactedUrl()
                        : "embedded, temporary data directory");
            } finally {
                if (external() && !slotExisted) {
                    dropSlot(config, err);
                }
            }
        }
    }

    private static boolean slotExists(EngineConfig config) {
        try (Connection c = ConnectionOptions.connect(config, "pgtrickle-bench")) {
            return Boolean.TRUE.equals(Sql.value(c, Boolean.class, "SELECT EXISTS (SELECT 1 FROM pg_replication_slots"
                    + " WHERE slot_name = ?)", config.slotName()));
        } catch (SQLException e) {
            throw new PgTrickleException(ErrorCode.CONNECTION_FAILED, "cannot connect to " + config.redactedUrl()
                    + ": " + e.getMessage(), e);
        }
    }

    /** Drops the slot this run created when no WAL-captured source is left to read it (it would keep WAL forever). */
    static void dropSlot(EngineConfig config, PrintWriter err) {
        try (Connection c = ConnectionOptions.connect(config, "pgtrickle-bench")) {
            long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            // The run's own sources stop being tracked as their stream tables go; wait a moment for
            // that, but keep a slot that sources tracked by someone else still need.
            while (true) {
                Long walSources = Sql.value(c, Long.class, "SELECT count(*) FROM pgtrickle.pgt_change_sources"
                        + " WHERE cdc_mode = 'WAL'");
                if (walSources == null || walSources == 0) {
                    break;
                }
                if (System.nanoTime() > deadline) {
                    err.println("kept replication slot " + config.slotName() + ", which this run created: "
                            + walSources + " source(s) captured from the WAL still need it");
                    return;
                }
                Thread.sleep(100);
            }
            while (true) {
                try (PreparedStatement ps = c.prepareStatement("SELECT pg_drop_replication_slot(slot_name)"
                        + " FROM pg_replication_slots WHERE slot_name = ? AND database = current_database()")) {
                    ps.setString(1, config.slotName());
                    ps.execute();
                    err.println("dropped replication slot " + config.slotName() + ", which this run created");
                    return;
                } catch (SQLException e) {
                    // 55006: the engine's stream has not let go of the slot yet.
                    if (!"55006".equals(e.getSQLState()) || System.nanoTime() > deadline) {
                        throw e;
                    }
                    Thread.sleep(100);
                }
            }
        } catch (SQLException | RuntimeException e) {
            err.println("warning: could not drop replication slot " + config.slotName() + ", which this run created"
                    + " (drop it with: SELECT pg_drop_replication_slot('" + config.slotName() + "')): " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        err.flush();
    }
}
