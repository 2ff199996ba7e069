package io.pgtrickle.connect.sink;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.sink.SinkConnector;

/**
 * Kafka records into a pg_trickle inbox, exactly once: see {@link PgTrickleInboxSinkTask}. Tasks
 * share the work by Connect's partition assignment, so every task gets the same configuration.
 */
public final class PgTrickleInboxSinkConnector extends SinkConnector {
    /** How long validation waits for the database. */
    static final Duration VALIDATE_TIMEOUT = Duration.ofSeconds(10);
    /** SQLSTATEs of a refused login: the error belongs to the user and password, not the URL. */
    private static final Set<String> AUTHENTICATION = Set.of("28000", "28P01");

    private Map<String, String> props;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        new PgTrickleSinkConfig(props); // fail at once on a bad configuration
        this.props = Map.copyOf(props);
    }

    @Override
    public Class<? extends Task> taskClass() {
        return PgTrickleInboxSinkTask.class;
    }

    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        List<Map<String, String>> configs = new ArrayList<>();
        for (int i = 0; i < maxTasks; i++) {
            configs.add(new HashMap<>(props));
        }
        return configs;
    }

    @Override
    public void stop() {
    }

    @Override
    public ConfigDef config() {
        return PgTrickleSinkConfig.CONFIG_DEF;
    }

    /**
     * Besides each key's own checks: connects to the database (within {@link #VALIDATE_TIMEOUT}) and
     * looks the inbox up, attaching a failure to the key that caused it.
     */
    @Override
    public Config validate(Map<String, String> connectorConfigs) {
        Config config = super.validate(connectorConfigs);
        Map<String, ConfigValue> values = new HashMap<>();
        config.configValues().forEach(v -> values.put(v.name(), v));
        Map<String, String> connection = new HashMap<>();
        for (String key : List.of(PgTrickleSinkConfig.CONNECTION_URL, PgTrickleSinkConfig.CONNECTION_USER,
                PgTrickleSinkConfig.CONNECTION_PASSWORD, PgTrickleSinkConfig.INBOX)) {
            if (values.get(key) != null && !values.get(key).errorMessages().isEmpty()) {
                return config; // a key is wrong already: the checks below would only repeat it
            }
            if (connectorConfigs.get(key) != null) {
                connection.put(key, connectorConfigs.get(key));
            }
        }
        // Only the keys the checks need: an error in another key (a rule, say) is reported on it already.
        PgTrickleSinkConfig parsed = new PgTrickleSinkConfig(connection);
        Connection c;
        try {
            c = InboxDatabase.connect(parsed, VALIDATE_TIMEOUT);
        } catch (SQLException e) {
            String message = "cannot connect to " + parsed.url() + (parsed.user() == null ? "" : " as " + parsed.user())
                    + ": " + e.getMessage();
            if (AUTHENTICATION.contains(e.getSQLState())) {
                values.get(PgTrickleSinkConfig.CONNECTION_USER).addErrorMessage(message);
                values.get(PgTrickleSinkConfig.CONNECTION_PASSWORD).addErrorMessage(message);
            } else {
                values.get(PgTrickleSinkConfig.CONNECTION_URL).addErrorMessage(message);
            }
            return config;
        }
        try (c) {
            InboxDatabase.inboxTable(c, parsed.inbox());
        } catch (SQLException e) {
            values.get(PgTrickleSinkConfig.INBOX).addErrorMessage(InboxDatabase.inboxProblem(parsed.inbox(), e));
        }
        return config;
    }
}
