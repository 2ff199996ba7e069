package io.pgtrickle.connect.sink;

import io.pgtrickle.format.FieldRule;
import io.pgtrickle.format.InboxDecoder;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.AbstractConfig;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.Importance;
import org.apache.kafka.common.config.ConfigDef.Type;
import org.apache.kafka.common.config.ConfigDef.Width;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.config.types.Password;

/**
 * The sink connector's keys, each declared once here; docs/connector-sink.md and the plugin README
 * are generated from {@link #CONFIG_DEF}.
 */
public final class PgTrickleSinkConfig extends AbstractConfig {
    public static final String CONNECTION_URL = "connection.url";
    public static final String CONNECTION_USER = "connection.user";
    public static final String CONNECTION_PASSWORD = "connection.password";
    public static final String INBOX = "inbox";
    public static final String EVENT_ID = "event.id";
    public static final String EVENT_TYPE = "event.type";
    public static final String AGGREGATE_ID = "aggregate.id";
    public static final String RETRY_BACKOFF_MS = "retry.backoff.ms";

    private static final String CONNECTION_GROUP = "Connection";
    private static final String INBOX_GROUP = "Inbox";
    private static final String RETRIES_GROUP = "Retries";
    private static final String RULES_DOC = " A list of rules tried in order, the first that finds a non-blank value"
            + " wins: header:<name> (a record header), field:<a.b.c> (a field of the JSON value, dotted path)"
            + " or coordinates (kafka:<topic>/<partition>/<offset>).";

    public static final ConfigDef CONFIG_DEF = new ConfigDef()
            .define(CONNECTION_URL, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new JdbcUrl(), Importance.HIGH,
                    "JDBC URL of the PostgreSQL database that holds the inbox, e.g."
                            + " jdbc:postgresql://db:5432/app. The pg_trickle engine must have installed its schema"
                            + " (pgtrickle) there.",
                    CONNECTION_GROUP, 1, Width.LONG, "JDBC URL")
            .define(CONNECTION_USER, Type.STRING, null, Importance.HIGH,
                    "Database user; empty: the URL's or the driver's default.",
                    CONNECTION_GROUP, 2, Width.MEDIUM, "Database user")
            .define(CONNECTION_PASSWORD, Type.PASSWORD, null, Importance.HIGH,
                    "Database password (never logged); empty: none.",
                    CONNECTION_GROUP, 3, Width.MEDIUM, "Database password")
            .define(INBOX, Type.STRING, ConfigDef.NO_DEFAULT_VALUE, new ConfigDef.NonEmptyStringWithoutControlChars(),
                    Importance.HIGH,
                    "The inbox the records go into, name or schema.name, as created with pgtrickle.create_inbox."
                            + " Inserts are idempotent by event_id.",
                    INBOX_GROUP, 1, Width.MEDIUM, "Inbox")
            .define(EVENT_ID, Type.LIST, "coordinates", new Rules(true), Importance.HIGH,
                    "Where each record's event id comes from (never the record key alone: it names an entity,"
                            + " not an event). A record for which no rule finds a value is a bad record."
                            + RULES_DOC,
                    INBOX_GROUP, 2, Width.LONG, "Event id")
            .define(EVENT_TYPE, Type.LIST, "", new Rules(false), Importance.MEDIUM,
                    "Where each record's event_type comes from; empty: not set." + RULES_DOC,
                    INBOX_GROUP, 3, Width.LONG, "Event type")
            .define(AGGREGATE_ID, Type.LIST, "", new Rules(false), Importance.MEDIUM,
                    "Where each record's aggregate_id (the entity it is about) comes from; empty: not set."
                            + RULES_DOC,
                    INBOX_GROUP, 4, Width.LONG, "Aggregate id")
            .define(RETRY_BACKOFF_MS, Type.LONG, 3000L, ConfigDef.Range.between(0, 3_600_000), Importance.LOW,
                    "How long the task waits before Connect hands it the same records again after a retriable"
                            + " failure (the database unreachable, the connection lost).",
                    RETRIES_GROUP, 1, Width.SHORT, "Retry back-off (ms)");

    public PgTrickleSinkConfig(Map<?, ?> props) {
        super(CONFIG_DEF, props);
    }

    public String url() {
        return getString(CONNECTION_URL);
    }

    /** Null when not set. */
    public String user() {
        String u = getString(CONNECTION_USER);
        return u == null || u.isEmpty() ? null : u;
    }

    /** Null when not set. */
    public String password() {
        Password p = getPassword(CONNECTION_PASSWORD);
        return p == null || p.value().isEmpty() ? null : p.value();
    }

    public String inbox() {
        return getString(INBOX);
    }

    public long retryBackoffMs() {
        return getLong(RETRY_BACKOFF_MS);
    }

    public InboxDecoder.Rules rules() {
        return new InboxDecoder.Rules(rules(EVENT_ID), rules(EVENT_TYPE), rules(AGGREGATE_ID));
    }

    private List<FieldRule> rules(String key) {
        List<FieldRule> out = new ArrayList<>();
        for (String text : getList(key)) {
            out.add(FieldRule.parse(text.trim()));
        }
        return out;
    }

    /** A JDBC URL of PostgreSQL. */
    static final class JdbcUrl implements ConfigDef.Validator {
        @Override
        public void ensureValid(String name, Object value) {
            if (value == null || !value.toString().startsWith("jdbc:postgresql:")) {
                throw new ConfigException(name, value, "must be a PostgreSQL JDBC URL, jdbc:postgresql://host:port/db");
            }
        }

        @Override
        public String toString() {
            return "jdbc:postgresql://host:port/database";
        }
    }

    /** A list of event rules; the event id needs one at least. */
    static final class Rules implements ConfigDef.Validator {
        private final boolean required;

        Rules(boolean required) {
            this.required = required;
        }

        @Override
        @SuppressWarnings("unchecked")
        public void ensureValid(String name, Object value) {
            List<String> rules = value == null ? List.of() : (List<String>) value;
            if (required && rules.isEmpty()) {
                throw new ConfigException(name, value, "needs at least one rule: header:<name>, field:<path> or coordinates");
            }
            for (String r : rules) {
                if (FieldRule.parse(r.trim()) == null) {
                    throw new ConfigException(name, r, "is not a rule: use header:<name>, field:<path> or coordinates");
                }
            }
        }

        @Override
        public String toString() {
            return (required ? "" : "empty, or ") + "list of header:<name> | field:<path> | coordinates";
        }
    }
}
