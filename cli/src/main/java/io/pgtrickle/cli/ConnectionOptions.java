package io.pgtrickle.cli;

import io.pgtrickle.core.EngineConfig;
import java.io.PrintWriter;
import java.nio.file.Path;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * Where the database is: a PostgreSQL given by {@code --jdbc-url}, or else the embedded one in
 * {@code --data-dir}. The password comes only from {@code PGTRICKLE_PASSWORD}, so it never shows
 * in a process list or shell history, and it is never printed.
 */
public final class ConnectionOptions {
    static final String PASSWORD_VARIABLE = "PGTRICKLE_PASSWORD";

    @Spec(Spec.Target.MIXEE)
    CommandSpec mixee;

    @Option(names = "--jdbc-url", paramLabel = "URL", defaultValue = "${env:PGTRICKLE_JDBC_URL}",
            description = "PostgreSQL to use, e.g. jdbc:postgresql://localhost:5432/app (env PGTRICKLE_JDBC_URL)."
                    + " Without it, the embedded PostgreSQL 18 is used. The password is read from env "
                    + PASSWORD_VARIABLE + " only.")
    String jdbcUrl;

    @Option(names = "--user", paramLabel = "NAME", defaultValue = "${env:PGTRICKLE_USER}",
            description = "User name for --jdbc-url (env PGTRICKLE_USER).")
    String user;

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

    /** The engine configuration for {@code url} with the user and the password from the environment. */
    EngineConfig config(String url) {
        EngineConfig config = EngineConfig.of(url);
        String password = System.getenv(PASSWORD_VARIABLE);
        return user != null || password != null ? config.withCredentials(user, password) : config;
    }

    /** Rejects malformed options as usage errors (exit code 2) before anything starts. */
    void validate() {
        if (external() && !jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new ParameterException(mixee.commandLine(), "--jdbc-url must be a PostgreSQL JDBC URL such as"
                    + " jdbc:postgresql://localhost:5432/app, got: " + redact(jdbcUrl));
        }
        if (port < 1 || port > 65535) {
            throw new ParameterException(mixee.commandLine(), "--port must be between 1 and 65535, got " + port);
        }
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
        return EngineSession.open(config(server.jdbcUrl()), server);
    }
}
