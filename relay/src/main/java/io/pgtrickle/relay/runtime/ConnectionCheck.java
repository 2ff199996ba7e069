package io.pgtrickle.relay.runtime;

import io.pgtrickle.relay.config.Direction;
import io.pgtrickle.relay.config.PipelineConfig;
import io.pgtrickle.relay.config.RelayConfig;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.config.SourceConfig;
import io.pgtrickle.relay.config.StreamTableConfig;
import io.pgtrickle.relay.source.EventSource;
import io.pgtrickle.relay.target.Target;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What {@code pgtrickle-relay check} tries: PostgreSQL (unless the relay embeds it), then each
 * pipeline's stream table and outbox or inbox, and its target or source, each under a timeout.
 * Prints one line per check.
 */
public final class ConnectionCheck {
    private ConnectionCheck() {
    }

    /** @return whether every check passed */
    public static boolean run(RelayConfig config, Duration timeout, PrintWriter out) {
        boolean ok = true;
        boolean database = !config.engine().embedded();
        if (database) {
            ok &= check(out, "postgres " + JdbcUrls.redacted(config.postgresUrl()), timeout, () -> {
                try (Connection c = connect(config, timeout)) {
                    for (PipelineConfig p : config.pipelines()) {
                        checkCatalog(c, config, p);
                    }
                }
            });
        } else {
            out.println("skip  postgres: [engine] embedded = true starts its own PostgreSQL 18");
        }
        for (PipelineConfig p : config.pipelines()) {
            if (!p.enabled()) {
                out.println("skip  pipeline " + p.name() + ": disabled");
                continue;
            }
            if (p.direction() == Direction.FORWARD) {
                String streamTable = ((SourceConfig.StreamTable) p.source()).streamTable();
                ok &= check(out, "pipeline " + p.name() + " target", timeout, () -> {
                    try (Target t = Targets.create(p.sink(), streamTable, new PrintStream(PrintStream.nullOutputStream()))) {
                        t.open();
                        t.lastPublished();
                    }
                });
            } else {
                ok &= check(out, "pipeline " + p.name() + " source", timeout, () -> {
                    try (EventSource s = Sources.create(p.source())) {
                        s.open(Map.of());
                    }
                });
            }
        }
        out.flush();
        return ok;
    }

    /** The stream table a forward pipeline reads exists with an outbox (or is declared); a reverse one's inbox exists. */
    private static void checkCatalog(Connection c, RelayConfig config, PipelineConfig p) throws Exception {
        if (p.direction() == Direction.FORWARD) {
            String st = ((SourceConfig.StreamTable) p.source()).streamTable();
            boolean declared = config.streamTables().stream().map(StreamTableConfig::name).anyMatch(st::equals);
            if (declared) {
                return;
            }
            try (PreparedStatement ps = c.prepareStatement("SELECT pgtrickle._stream_table_id(pgtrickle._canonical_name(?)),"
                    + " EXISTS (SELECT 1 FROM pgtrickle.pgt_outbox_config x"
                    + " WHERE x.pgt_id = pgtrickle._stream_table_id(pgtrickle._canonical_name(?)))")) {
                ps.setString(1, st);
                ps.setString(2, st);
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getObject(1) == null) {
                        throw new IllegalStateException("pipeline " + p.name() + ": stream table " + st
                                + " does not exist; create it, or declare it in a [[stream_table]]");
                    }
                    if (!rs.getBoolean(2)) {
                        throw new IllegalStateException("pipeline " + p.name() + ": stream table " + st
                                + " has no outbox; run SELECT pgtrickle.enable_outbox('" + st + "')");
                    }
                }
            }
        } else {
            String inbox = ((SinkConfig.Inbox) p.sink()).inbox();
            try (PreparedStatement ps = c.prepareStatement("SELECT 1 FROM pgtrickle.pgt_inboxes WHERE inbox_name = ?"
                    + " OR quote_ident(inbox_schema) || '.' || quote_ident(inbox_name) = ?")) {
                ps.setString(1, inbox);
                ps.setString(2, inbox);
                try (ResultSet rs = ps.executeQuery()) {
                    if (!rs.next()) {
                        throw new IllegalStateException("pipeline " + p.name() + ": inbox " + inbox
                                + " does not exist; create it with SELECT pgtrickle.create_inbox('" + inbox + "')");
                    }
                }
            }
        }
    }

    static Connection connect(RelayConfig config, Duration timeout) throws Exception {
        Properties props = new Properties();
        props.setProperty("connectTimeout", String.valueOf(Math.max(1, timeout.toSeconds())));
        props.setProperty("loginTimeout", String.valueOf(Math.max(1, timeout.toSeconds())));
        if (config.postgresPassword() != null) {
            props.setProperty("password", config.postgresPassword().reveal());
        }
        return DriverManager.getConnection(JdbcUrls.jdbc(config.postgresUrl()), props);
    }

    interface Attempt {
        void run() throws Exception;
    }

    private static boolean check(PrintWriter out, String what, Duration timeout, Attempt attempt) {
        ExecutorService executor = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "relay-check");
            t.setDaemon(true);
            return t;
        });
        try {
            Future<?> f = executor.submit(() -> {
                attempt.run();
                return null;
            });
            f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            out.println("ok    " + what);
            return true;
        } catch (TimeoutException e) {
            out.println("FAIL  " + what + ": no answer within " + timeout.toSeconds() + " s");
            return false;
        } catch (Exception e) {
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            out.println("FAIL  " + what + ": " + (cause.getMessage() == null ? cause : cause.getMessage()));
            return false;
        } finally {
            executor.shutdownNow();
            out.flush();
        }
    }
}
