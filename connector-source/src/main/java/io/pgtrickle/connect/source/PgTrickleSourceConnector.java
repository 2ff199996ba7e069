package io.pgtrickle.connect.source;

import io.pgtrickle.core.error.SqlErrors;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.common.config.Config;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigValue;
import org.apache.kafka.connect.connector.Task;
import org.apache.kafka.connect.errors.ConnectException;
import org.apache.kafka.connect.source.ConnectorTransactionBoundaries;
import org.apache.kafka.connect.source.ExactlyOnceSupport;
import org.apache.kafka.connect.source.SourceConnector;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes stream-table deltas from their outboxes to Kafka topics, exactly once (KIP-618: one Kafka
 * transaction per refresh with {@code transaction.boundary=connector}). Tasks split the selected
 * stream tables; a background check every {@code tables.poll.interval.ms} reconfigures the tasks
 * when the selection changes (a stream table matching {@code stream.tables.pattern} appeared).
 */
public final class PgTrickleSourceConnector extends SourceConnector {
    private static final Logger LOG = LoggerFactory.getLogger(PgTrickleSourceConnector.class);
    static final int VALIDATE_TIMEOUT_SECONDS = 5;

    private Map<String, String> props;
    private PgTrickleSourceConfig config;
    private volatile List<String> selected = List.of();
    private ScheduledExecutorService monitor;

    @Override
    public String version() {
        return Version.get();
    }

    @Override
    public void start(Map<String, String> props) {
        this.props = Map.copyOf(props);
        this.config = new PgTrickleSourceConfig(props);
        try {
            selected = select();
        } catch (SQLException | IllegalStateException e) {
            throw new ConnectException("pgtrickle source connector cannot start: " + message(e), e);
        }
        LOG.info("pgtrickle source connector: stream tables {}", selected);
        monitor = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "pgtrickle-source-tables");
            t.setDaemon(true);
            return t;
        });
        monitor.scheduleWithFixedDelay(this::checkTables, config.tablesPollIntervalMs(), config.tablesPollIntervalMs(),
                TimeUnit.MILLISECONDS);
    }

    private List<String> select() throws SQLException {
        try (Connection c = Database.connect(config, VALIDATE_TIMEOUT_SECONDS)) {
            return StreamTable.ids(Catalog.selected(c, config));
        }
    }

    private void checkTables() {
        try {
            List<String> now = select();
            if (!now.equals(selected)) {
                LOG.info("pgtrickle source connector: stream tables changed from {} to {}; reconfiguring the tasks", selected,
                        now);
                selected = now;
                context.requestTaskReconfiguration();
            }
        } catch (SQLException | RuntimeException e) {
            // The tasks report a database that went away; the selection is checked again next time.
            LOG.warn("pgtrickle source connector: cannot check the stream tables: {}", message(e));
        }
    }

    @Override
    public Class<? extends Task> taskClass() {
        return PgTrickleSourceTask.class;
    }

    /** Splits the selected stream tables over at most {@code maxTasks} tasks, round robin over the sorted list. */
    @Override
    public List<Map<String, String>> taskConfigs(int maxTasks) {
        return taskConfigs(props, selected, maxTasks);
    }

    static List<Map<String, String>> taskConfigs(Map<String, String> props, List<String> tables, int maxTasks) {
        int n = Math.min(maxTasks, tables.size());
        List<List<String>> groups = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            groups.add(new ArrayList<>());
        }
        for (int i = 0; i < tables.size(); i++) {
            groups.get(i % n).add(tables.get(i));
        }
        List<Map<String, String>> configs = new ArrayList<>();
        for (List<String> g : groups) {
            Map<String, String> task = new HashMap<>(props);
            task.put(PgTrickleSourceConfig.TASK_STREAM_TABLES, String.join(",", g));
            configs.add(task);
        }
        return configs;
    }

    @Override
    public void stop() {
        if (monitor != null) {
            monitor.shutdownNow();
        }
    }

    @Override
    public ConfigDef config() {
        return PgTrickleSourceConfig.CONFIG_DEF;
    }

    /**
     * The ConfigDef's checks, then: exactly one of {@code stream.tables} and
     * {@code stream.tables.pattern}; a live connection (on {@code connection.url}); each listed stream
     * table exists and has an outbox (on {@code stream.tables}).
     */
    @Override
    public Config validate(Map<String, String> connectorConfigs) {
        Config result = super.validate(connectorConfigs);
        Map<String, ConfigValue> values = new HashMap<>();
        result.configValues().forEach(v -> values.put(v.name(), v));
        new ConfigValidation(values).run(connectorConfigs);
        return result;
    }

    @Override
    public ExactlyOnceSupport exactlyOnceSupport(Map<String, String> connectorConfig) {
        return ExactlyOnceSupport.SUPPORTED;
    }

    @Override
    public ConnectorTransactionBoundaries canDefineTransactionBoundaries(Map<String, String> connectorConfig) {
        return ConnectorTransactionBoundaries.SUPPORTED;
    }

    static String message(Exception e) {
        return e instanceof SQLException ? SqlErrors.describe((SQLException) e) : e.getMessage();
    }

    /** The checks of {@link #validate} beyond the ConfigDef's, each error on the key to fix. */
    private static final class ConfigValidation {
        private final Map<String, ConfigValue> values;

        ConfigValidation(Map<String, ConfigValue> values) {
            this.values = values;
        }

        void run(Map<String, String> props) {
            ConfigValue list = values.get(PgTrickleSourceConfig.STREAM_TABLES);
            ConfigValue pattern = values.get(PgTrickleSourceConfig.STREAM_TABLES_PATTERN);
            boolean listed = list.value() instanceof List && !((List<?>) list.value()).isEmpty();
            boolean patterned = pattern.value() != null && !pattern.value().toString().isBlank();
            if (listed == patterned) {
                list.addErrorMessage(PgTrickleSourceConfig.sourceChoiceMessage());
                pattern.addErrorMessage(PgTrickleSourceConfig.sourceChoiceMessage());
            }
            for (String key : List.of(PgTrickleSourceConfig.CONNECTION_URL, PgTrickleSourceConfig.CONNECTION_USER,
                    PgTrickleSourceConfig.CONNECTION_PASSWORD)) {
                if (!values.get(key).errorMessages().isEmpty()) {
                    return; // no connection to check
                }
            }
            PgTrickleSourceConfig config;
            try {
                config = new PgTrickleSourceConfig(listed ? props : withPatternOnly(props, patterned));
            } catch (RuntimeException e) {
                return; // reported on its key above
            }
            ConfigValue url = values.get(PgTrickleSourceConfig.CONNECTION_URL);
            try (Connection c = Database.connect(config, VALIDATE_TIMEOUT_SECONDS)) {
                if (!listed) {
                    return;
                }
                for (String name : config.streamTables()) {
                    Optional<StreamTable> t = Catalog.find(c, name);
                    if (t.isEmpty()) {
                        list.addErrorMessage(Catalog.missing(name));
                    } else if (!t.get().hasOutbox()) {
                        list.addErrorMessage(Catalog.noOutbox(t.get()));
                    }
                }
            } catch (SQLException e) {
                if ("42P01".equals(e.getSQLState()) || "3F000".equals(e.getSQLState()) || "42883".equals(e.getSQLState())) {
                    url.addErrorMessage("the database at " + config.url() + " has no pg_trickle catalog (" + message(e)
                            + "); point connection.url at the database whose engine keeps the stream tables");
                } else {
                    url.addErrorMessage("cannot connect to " + config.url() + (config.user() == null ? "" : " as " + config.user())
                            + ": " + message(e) + "; check connection.url, connection.user and connection.password, and that"
                            + " the server accepts connections from the Connect worker");
                }
            }
        }

        /** Neither set: still check the connection, with a placeholder pattern. */
        private static Map<String, String> withPatternOnly(Map<String, String> props, boolean patterned) {
            Map<String, String> copy = new HashMap<>(props);
            if (!patterned) {
                copy.put(PgTrickleSourceConfig.STREAM_TABLES_PATTERN, ".*");
            }
            copy.remove(PgTrickleSourceConfig.STREAM_TABLES);
            return copy;
        }
    }
}
