package io.pgtrickle.cli;

import io.pgtrickle.core.EngineConfig;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Where the database is: a PostgreSQL given by {@code --jdbc-url}, or else the embedded one in
 * {@code --data-dir}. The password comes only from {@code PGTRICKLE_PASSWORD}, so it never shows
 * in a process list or shell history, and it is never printed.
 *
 * <p>The replication slot of WAL capture is per server, not per database, so every database on
 * one server needs its own slot name. Without {@code --slot-name}, a command uses the slot the
 * database's engine already uses (recorded in {@code pgtrickle.pgt_capture_state}), so a one-shot
 * command never creates a second slot beside the one a {@code run --slot-name X} uses.
 */
public final class ConnectionOptions {
    static final String PASSWORD_VARIABLE = "PGTRICKLE_PASSWORD";
    static final String DEFAULT_SLOT = "pgtrickle_slot";
    private static final Pattern SLOT_NAME = Pattern.compile("[a-z0-9_]{1,63}");

    static final String JDBC_URL_HELP = "PostgreSQL to use, e.g. jdbc:postgresql://localhost:5432/app (env"
            + " PGTRICKLE_JDBC_URL). Without it, the embedded PostgreSQL 18 is used. The password is read from env "
            + PASSWORD_VARIABLE + " only.";
    static final String USER_HELP = "User name for --jdbc-url (env PGTRICKLE_USER).";
    static final String SLOT_NAME_HELP = "Logical replication slot of WAL capture (env PGTRICKLE_SLOT_NAME)."
            + " Slots are per server: give each database on one server its own (lower-case letters, digits, _)."
            + " Default: the slot this database's engine already uses, else " + DEFAULT_SLOT + ".";

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--jdbc-url", paramLabel = "URL", defaultValue = "${env:PGTRICKLE_JDBC_URL}",
            description = JDBC_URL_HELP)
    String jdbcUrl;

    @Option(names = "--user", paramLabel = "NAME", defaultValue = "${env:PGTRICKLE_USER}", description = USER_HELP)
    String user;

    @Option(names = "--slot-name", paramLabel = "NAME", defaultValue = "${env:PGTRICKLE_SLOT_NAME}",
            description = SLOT_NAME_HELP)
    String slotName;

    @Option(names = "--data-dir", paramLabel = "DIR",
            defaultValue = "${env:PGTRICKLE_DATA_DIR:-${sys:user.home}/.pgtrickle/pgdata}",
            description = "Data directory of the embedded PostgreSQL (env PGTRICKLE_DATA_DIR; default ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--port", paramLabel = "N", defaultValue = "54329",
            description = "Port of the embedded PostgreSQL (default ${DEFAULT-VALUE}).")
    int port;

    /** Whether a database URL was given; otherwise the embedded server is used. */
    boolean external() {
        return jdbcUrl != null && !jdbcUrl.isBlank();
    }

    /**
     * The engine configuration for {@code url}: the user, the password from the environment, and
     * the slot name (see {@link #engineConfig}).
     */
    EngineConfig config(String url) {
        return engineConfig(url, user, slotName);
    }

    /**
     * The engine configuration for {@code url} with {@code user} (nullable), the password from the
     * environment, and {@code slotName}; when that is {@code null}, the slot the database's engine
     * already uses, else {@value #DEFAULT_SLOT}.
     *
     * @throws PgTrickleException {@code CONNECTION_FAILED} when the database cannot be reached
     */
    static EngineConfig engineConfig(String url, String user, String slotName) {
        EngineConfig config = EngineConfig.of(url);
        String password = System.getenv(PASSWORD_VARIABLE);
        if (user != null || password != null) {
            config = config.withCredentials(user, password);
        }
        return config.withSlotName(slotName != null ? slotName : recordedSlot(config).orElse(DEFAULT_SLOT));
    }

    /**
     * The slot recorded in the database's catalog, if the catalog exists and names one. Failing to
     * connect is reported here, as the engine would; failing to read is left to the engine too.
     */
    private static Optional<String> recordedSlot(EngineConfig config) {
        Connection c;
        try {
            c = connect(config, "pgtrickle-cli");
        } catch (SQLException e) {
            throw new PgTrickleException(ErrorCode.CONNECTION_FAILED, "cannot connect to " + config.redactedUrl() + ": "
                    + e.getMessage(), e);
        }
        try (c; Statement s = c.createStatement()) {
            String slot = null;
            try (ResultSet rs = s.executeQuery("SELECT to_regclass('pgtrickle.pgt_capture_state') IS NOT NULL")) {
                rs.next();
                if (rs.getBoolean(1)) {
                    try (ResultSet slots = s.executeQuery("SELECT slot_name FROM pgtrickle.pgt_capture_state")) {
                        slot = slots.next() ? slots.getString(1) : null;
                    }
                }
            }
            return Optional.ofNullable(slot).filter(name -> SLOT_NAME.matcher(name).matches());
        } catch (SQLException e) {
            return Optional.empty();
        }
    }

    /** A plain connection with the configuration's credentials, for the CLI's own queries. */
    static Connection connect(EngineConfig config, String applicationName) throws SQLException {
        Properties p = new Properties();
        if (config.user() != null) {
            p.setProperty("user", config.user());
        }
        if (config.password() != null) {
            p.setProperty("password", config.password());
        }
        p.setProperty("ApplicationName", applicationName);
        p.setProperty("connectTimeout", "10");
        return DriverManager.getConnection(config.jdbcUrl(), p);
    }

    /** Rejects malformed options as usage errors (exit code 2) before anything starts. */
    void validate() {
        validateDatabase(mixee.commandLine(), jdbcUrl, slotName);
        if (port < 1 || port > 65535) {
            throw new ParameterException(mixee.commandLine(), "--port must be between 1 and 65535, got " + port);
        }
    }

    /** Checks {@code --jdbc-url} (nullable) and {@code --slot-name} (nullable) as usage errors. */
    static void validateDatabase(picocli.CommandLine commandLine, String jdbcUrl, String slotName) {
        if (jdbcUrl != null && !jdbcUrl.isBlank() && !jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new ParameterException(commandLine, "--jdbc-url must be a PostgreSQL JDBC URL such as"
                    + " jdbc:postgresql://localhost:5432/app, got: " + redact(jdbcUrl));
        }
        if (slotName != null && !SLOT_NAME.matcher(slotName).matches()) {
            throw new ParameterException(commandLine, "--slot-name must be 1 to 63 lower-case letters, digits or"
                    + " underscores, got: " + slotName);
        }
    }

    /**
     * The {@code run} command line that serves the database these options name, for hints: the
     * connection options given to this command, repeated.
     */
    String runCommand() {
        List<String> words = new ArrayList<>(List.of("bin/pgtrickle", "run"));
        picocli.CommandLine.ParseResult parsed = mixee.commandLine().getParseResult();
        if (external()) {
            words.add("--jdbc-url");
            words.add(redact(jdbcUrl));
            if (user != null) {
                words.add("--user");
                words.add(user);
            }
        } else {
            if (parsed != null && parsed.hasMatchedOption("--data-dir")) {
                words.add("--data-dir");
                words.add(dataDir.toString());
            }
            if (parsed != null && parsed.hasMatchedOption("--port")) {
                words.add("--port");
                words.add(Integer.toString(port));
            }
        }
        if (slotName != null) {
            words.add("--slot-name");
            words.add(slotName);
        }
        return String.join(" ", words);
    }

    /** What to say when no engine runs against the database. */
    String noEngineRunning() {
        return "no engine is running against this database: nothing refreshes on schedule (start one with: "
                + runCommand() + ")";
    }

    /** {@code url} with any password parameter masked, for messages. */
    static String redact(String url) {
        return url.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    /**
     * Opens the engine on the database the options name: the given URL, the server of a running
     * {@code pgtrickle run} for the data directory, or an embedded server started for this command.
     * Progress goes to {@code progress}.
     */
    EngineSession open(PrintWriter progress) {
        validate();
        if (external()) {
            return EngineSession.open(config(jdbcUrl), null);
        }
        LocalServer server = LocalServer.attachOrStart(dataDir, port, progress);
        EngineConfig config;
        try {
            config = config(server.jdbcUrl());
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
        return EngineSession.open(config, server);
    }
}
