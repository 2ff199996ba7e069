package io.pgtrickle.connect.source;

import io.pgtrickle.format.FormatName;
import io.pgtrickle.format.Template;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * The source connector's settings. Every key is declared once, here, with its type, default,
 * importance, group, order, width, display name, doc and validator; the reference table in
 * docs/connector-source.md is printed from {@link #CONFIG_DEF}.
 */
public final class PgTrickleSourceConfig extends AbstractConfig {
    public static final String CONNECTION_URL = "connection.url";
    public static final String CONNECTION_USER = "connection.user";
    public static final String CONNECTION_PASSWORD = "connection.password";
    public static final String STREAM_TABLES = "stream.tables";
    public static final String STREAM_TABLES_PATTERN = "stream.tables.pattern";
    public static final String TOPIC_TEMPLATE = "topic.template";
    public static final String FORMAT = "format";
    public static final String BATCH_SIZE = "batch.size";
    public static final String POLL_INTERVAL_MS = "poll.interval.ms";
    public static final String TABLES_POLL_INTERVAL_MS = "tables.poll.interval.ms";

    /** Set by the connector in each task's config: the stream tables ({@code schema.name}) the task reads. */
    static final String TASK_STREAM_TABLES = "task.stream.tables";

    private static final String CONNECTION_GROUP = "Connection";
    private static final String SOURCE_GROUP = "Stream tables";
    private static final String OUTPUT_GROUP = "Records";
    private static final String POLL_GROUP = "Polling";

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(CONNECTION_URL, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new JdbcUrl(), Importance.HIGH,
                    "JDBC URL of the PostgreSQL database whose pg_trickle engine keeps the stream tables, for example"
                            + " jdbc:postgresql://db:5432/app. validate() connects to it (5 s timeout).",
                    CONNECTION_GROUP, 1, Width.LONG, "JDBC URL")
            .define(CONNECTION_USER, Type.STRING, null, Importance.HIGH,
                    "Database user; it needs SELECT on the pgtrickle schema and EXECUTE on its functions."
                            + " Empty: the user in the URL, if any.",
                    CONNECTION_GROUP, 2, Width.MEDIUM, "Database user")
            .define(CONNECTION_PASSWORD, Type.PASSWORD, null, Importance.HIGH,
                    "Password of the database user; never logged (Connect masks it as [hidden]).",
                    CONNECTION_GROUP, 3, Width.MEDIUM, "Database password")
            .define(STREAM_TABLES, Type.LIST, "", Importance.HIGH,
                    "Stream tables to publish, as name or schema.name (name means public.name); each must exist and"
                            + " have an outbox (SELECT pgtrickle.enable_outbox('name')). Set this or "
                            + STREAM_TABLES_PATTERN + ", not both.",
                    SOURCE_GROUP, 1, Width.LONG, "Stream tables")
            .define(STREAM_TABLES_PATTERN, Type.STRING, null, new Regex(), Importance.HIGH,
                    "Java regular expression matched against schema.name of every stream table that has an outbox,"
                            + " for example public\\.orders_.*; tables that appear later are picked up (see "
                            + TABLES_POLL_INTERVAL_MS + "). Set this or " + STREAM_TABLES + ", not both.",
                    SOURCE_GROUP, 2, Width.LONG, "Stream table pattern")
            .define(TABLES_POLL_INTERVAL_MS, Type.LONG, 10_000L, ConfigDef.Range.between(500, 86_400_000), Importance.LOW,
                    "How often the connector looks for stream tables and outboxes that appeared or went away; a change"
                            + " reconfigures the tasks.",
                    SOURCE_GROUP, 3, Width.SHORT, "Stream table check interval (ms)")
            .define(TOPIC_TEMPLATE, Type.STRING, "pgtrickle.{stream_table}", new TopicTemplate(), Importance.MEDIUM,
                    "Topic of each change: {stream_table} is the stream table's schema.name, {op} is insert, update or"
                            + " delete.",
                    OUTPUT_GROUP, 1, Width.LONG, "Topic template")
            .define(FORMAT, Type.STRING, "native", new Format(), Importance.MEDIUM,
                    "Record value: native (op, key, before, after, stream_table, refresh_id, position, committed_at) or"
                            + " debezium (Debezium's envelope: before, after, source, op c/u/d, ts_ms).",
                    OUTPUT_GROUP, 2, Width.SHORT, "Value format")
            .define(BATCH_SIZE, Type.INT, 500, ConfigDef.Range.between(1, 100_000), Importance.MEDIUM,
                    "Most records a task returns from one poll; a refresh larger than this spans several polls and"
                            + " still commits as one Kafka transaction.",
                    POLL_GROUP, 1, Width.SHORT, "Batch size")
            .define(POLL_INTERVAL_MS, Type.LONG, 200L, ConfigDef.Range.between(10, 3_600_000), Importance.MEDIUM,
                    "How long a task waits before reading the outboxes again when they had nothing new.",
                    POLL_GROUP, 2, Width.SHORT, "Poll interval (ms)");

    /** The connector's keys plus the task-only list of stream tables. */
    static final ConfigDef TASK_CONFIG_DEF = new ConfigDef(CONFIG_DEF)
            .define(TASK_STREAM_TABLES, Type.LIST, Importance.HIGH, "The stream tables (schema.name) this task reads.");

    public PgTrickleSourceConfig(Map<?, ?> props) {
        this(CONFIG_DEF, props);
    }

    private PgTrickleSourceConfig(ConfigDef def, Map<?, ?> props) {
        super(def, props, false);
        boolean listed = !getList(STREAM_TABLES).isEmpty();
        boolean patterned = getString(STREAM_TABLES_PATTERN) != null && !getString(STREAM_TABLES_PATTERN).isBlank();
        if (listed == patterned) {
            throw new ConfigException(STREAM_TABLES, getList(STREAM_TABLES), sourceChoiceMessage());
        }
    }

    /** A task's config: the connector's plus {@link #TASK_STREAM_TABLES}. */
    static PgTrickleSourceConfig forTask(Map<?, ?> props) {
        return new PgTrickleSourceConfig(TASK_CONFIG_DEF, props);
    }

    static String sourceChoiceMessage() {
        return "set exactly one of " + STREAM_TABLES + " (a list of stream tables) and " + STREAM_TABLES_PATTERN
                + " (a regular expression)";
    }

    public String url() {
        return getString(CONNECTION_URL);
    }

    /** Null when not set. */
    public String user() {
        String user = getString(CONNECTION_USER);
        return user == null || user.isEmpty() ? null : user;
    }

    /** Null when not set. */
    public String password() {
        Password p = getPassword(CONNECTION_PASSWORD);
        return p == null || p.value().isEmpty() ? null : p.value();
    }

    public List<String> streamTables() {
        return getList(STREAM_TABLES);
    }

    /** Null when the stream tables are listed. */
    public Pattern streamTablesPattern() {
        String p = getString(STREAM_TABLES_PATTERN);
        return p == null || p.isBlank() ? null : Pattern.compile(p);
    }

    public Template topicTemplate() {
        return new Template(getString(TOPIC_TEMPLATE));
    }

    public FormatName format() {
        return FormatName.valueOf(getString(FORMAT).toUpperCase(Locale.ROOT));
    }

    public int batchSize() {
        return getInt(BATCH_SIZE);
    }

    public long pollIntervalMs() {
        return getLong(POLL_INTERVAL_MS);
    }

    public long tablesPollIntervalMs() {
        return getLong(TABLES_POLL_INTERVAL_MS);
    }

    /** The task's stream tables ({@code schema.name}); only in a task's config. */
    public List<String> taskStreamTables() {
        return getList(TASK_STREAM_TABLES);
    }

    private static final class JdbcUrl implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || !value.toString().startsWith("jdbc:postgresql:")) {
                throw new ConfigException(name, value, "must be a PostgreSQL JDBC URL, jdbc:postgresql://host:port/database");
            }
        }

        @Override
        public String toString() {
            return "jdbc:postgresql://host:port/database";
        }
    }

    private static final class Regex implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null) {
                return;
            }
            try {
                Pattern.compile(value.toString());
            } catch (PatternSyntaxException e) {
                throw new ConfigException(name, value, "not a regular expression: " + e.getDescription());
            }
        }

        @Override
        public String toString() {
            return "a Java regular expression";
        }
    }

    private static final class TopicTemplate implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            try {
                new Template(value == null ? null : value.toString());
            } catch (IllegalArgumentException e) {
                throw new ConfigException(name, value, e.getMessage());
            }
        }

        @Override
        public String toString() {
            return "text with {stream_table} and {op}";
        }
    }

    private static final class Format implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            String v = value == null ? "" : value.toString().toLowerCase(Locale.ROOT);
            if (!v.equals("native") && !v.equals("debezium")) {
                throw new ConfigException(name, value, "must be native or debezium");
            }
        }

        @Override
        public String toString() {
            return "native, debezium";
        }
    }
}
