package io.pgtrickle.relay.config;

import java.util.ArrayList;
import java.util.List;

/**
 * Every key of relay.toml, declared once: its section, name, type, whether it is required, its
 * default and a one-line description. The loader validates against it, the nearest-key hints search
 * it, {@link ConfigPrinter} prints in its order and {@link ConfigReference} generates
 * docs/relay-config.md from it.
 */
public enum ConfigKey {
    POSTGRES_URL(Section.TOP, "postgres_url", Spec.of(ValueType.STRING).need(Requirement.UNLESS_EMBEDDED)
            .doc("PostgreSQL to connect to: jdbc:postgresql://host:port/db or postgresql://user@host:port/db")),
    POSTGRES_PASSWORD(Section.TOP, "postgres_password", Spec.of(ValueType.SECRET)
            .doc("password for postgres_url (else the one in the URL, if any)")),
    METRICS_ADDR(Section.TOP, "metrics_addr", Spec.of(ValueType.STRING).def("127.0.0.1:9464")
            .doc("host:port serving /metrics (Prometheus), /health and /ready")),
    LOG_LEVEL(Section.TOP, "log_level", Spec.choice("error", "warn", "info", "debug", "trace").def("info")
            .doc("the least severe level logged")),
    LOG_FORMAT(Section.TOP, "log_format", Spec.choice("text", "json").def("text")
            .doc("text lines or one JSON object per line")),
    RELAY_GROUP_ID(Section.TOP, "relay_group_id", Spec.of(ValueType.STRING).def("default")
            .doc("relays with the same id share the pipelines: one owns each, the others stand by")),
    ENGINE(Section.TOP, "engine", Spec.of(ValueType.TABLE)
            .doc("hosts the engine in the relay process; see [engine]")),
    STREAM_TABLES(Section.TOP, "stream_table", Spec.of(ValueType.TABLE_ARRAY)
            .doc("stream tables created or replaced at start, outbox enabled; see [[stream_table]]")),
    PIPELINES(Section.TOP, "pipeline", Spec.of(ValueType.TABLE_ARRAY)
            .doc("what the relay moves; see [[pipeline]]")),

    ENGINE_ENABLED(Section.ENGINE, "enabled", Spec.of(ValueType.BOOLEAN).def(false)
            .doc("run the engine (the refresh scheduler) in the relay process")),
    ENGINE_EMBEDDED(Section.ENGINE, "embedded", Spec.of(ValueType.BOOLEAN).def(false)
            .doc("also start an embedded PostgreSQL 18 (implies enabled; postgres_url is then not needed)")),
    ENGINE_DATA_DIR(Section.ENGINE, "data_dir", Spec.of(ValueType.STRING).def("pgtrickle-data")
            .doc("data directory of the embedded PostgreSQL (kept across restarts)")),
    ENGINE_PORT(Section.ENGINE, "port", Spec.of(ValueType.INTEGER).range(0, 65535).def(0L)
            .doc("port of the embedded PostgreSQL; 0 picks a free one")),
    ENGINE_SLOT_NAME(Section.ENGINE, "slot_name", Spec.of(ValueType.STRING).def("pgtrickle_slot")
            .doc("replication slot of the hosted engine; slots belong to the server, so one per database")),
    ENGINE_MAX_CONCURRENT_REFRESHES(Section.ENGINE, "max_concurrent_refreshes", Spec.of(ValueType.INTEGER).range(1, 64)
            .def(1L).doc("stream tables the hosted engine refreshes at once, each on its own connection (dependants"
                    + " after their sources)")),
    ENGINE_TIERED_SCHEDULING(Section.ENGINE, "tiered_scheduling", Spec.of(ValueType.BOOLEAN).def(false)
            .doc("check due stream tables whose sources have not changed for 8 checks only every 4th time (8th after"
                    + " 64): a cheaper tick with many stream tables, staler until the next check")),

    STREAM_TABLE_NAME(Section.STREAM_TABLE, "name", Spec.of(ValueType.STRING).need(Requirement.REQUIRED)
            .doc("the stream table's name, optionally schema-qualified")),
    STREAM_TABLE_QUERY(Section.STREAM_TABLE, "query", Spec.of(ValueType.STRING).need(Requirement.REQUIRED)
            .doc("the defining query")),
    STREAM_TABLE_SCHEDULE(Section.STREAM_TABLE, "schedule", Spec.of(ValueType.STRING).def("1s")
            .doc("how often it is refreshed")),
    STREAM_TABLE_REFRESH_MODE(Section.STREAM_TABLE, "refresh_mode", Spec.choice("AUTO", "FULL", "DIFFERENTIAL")
            .def("AUTO").doc("how it is refreshed")),
    STREAM_TABLE_RETENTION_HOURS(Section.STREAM_TABLE, "retention_hours", Spec.of(ValueType.INTEGER)
            .range(1, Integer.MAX_VALUE).def(24L).doc("how long its outbox keeps published changes")),
    STREAM_TABLE_INLINE_THRESHOLD_ROWS(Section.STREAM_TABLE, "inline_threshold_rows", Spec.of(ValueType.INTEGER)
            .range(0, Integer.MAX_VALUE).def(100L).doc("refreshes up to this many changed rows carry them inline in the outbox (as enable_outbox)")),

    PIPELINE_NAME(Section.PIPELINE, "name", Spec.of(ValueType.STRING).need(Requirement.REQUIRED)
            .doc("unique; [A-Za-z0-9_.-]+; names the pipeline in logs, metrics and its ownership lock")),
    PIPELINE_DIRECTION(Section.PIPELINE, "direction", Spec.choice("forward", "reverse").need(Requirement.REQUIRED)
            .doc("forward: a stream table's outbox to a target; reverse: a source to an inbox")),
    PIPELINE_ENABLED(Section.PIPELINE, "enabled", Spec.of(ValueType.BOOLEAN).def(true)
            .doc("false keeps the pipeline in the file without running it")),
    PIPELINE_FORMAT(Section.PIPELINE, "format", Spec.choice("native", "debezium").def("native").forwardOnly()
            .doc("forward only: pg_trickle's JSON change or Debezium's change event envelope")),
    PIPELINE_BATCH_SIZE(Section.PIPELINE, "batch_size", Spec.of(ValueType.INTEGER).range(1, 100_000).def(500L)
            .doc("changes (forward) or messages (reverse) per batch; a forward pipeline sends up to four batches (Kafka: ten, one transaction) before it waits for the target")),
    PIPELINE_RETRY_INITIAL_BACKOFF(Section.PIPELINE, "retry_initial_backoff", Spec.of(ValueType.DURATION)
            .def("500ms").doc("first wait after a failure; it doubles up to retry_max_backoff")),
    PIPELINE_RETRY_MAX_BACKOFF(Section.PIPELINE, "retry_max_backoff", Spec.of(ValueType.DURATION).def("30s")
            .doc("longest wait between retries")),
    PIPELINE_SOURCE(Section.PIPELINE, "source", Spec.of(ValueType.TABLE).need(Requirement.REQUIRED)
            .doc("where the pipeline reads; see [pipeline.source]")),
    PIPELINE_SINK(Section.PIPELINE, "sink", Spec.of(ValueType.TABLE).need(Requirement.REQUIRED)
            .doc("where the pipeline writes; see [pipeline.sink]")),

    SOURCE_STREAM_TABLE(Section.SOURCE_OUTBOX, "stream_table", Spec.of(ValueType.STRING).need(Requirement.REQUIRED)
            .doc("the stream table whose outbox is published")),
    SOURCE_TYPE(Section.SOURCE_REVERSE, "type", Spec.choice("kafka", "nats", "redis").need(Requirement.REQUIRED)
            .doc("what the inbox is filled from")),

    KAFKA_BOOTSTRAP_SERVERS(Section.KAFKA, "bootstrap_servers", Spec.of(ValueType.STRING).need(Requirement.REQUIRED)
            .doc("host:port[,host:port...] of the Kafka cluster")),
    KAFKA_PROPERTIES(Section.KAFKA, "properties", Spec.of(ValueType.PROPERTIES)
            .doc("extra Kafka client properties, e.g. \"security.protocol\" = \"SASL_SSL\"")),
    NATS_URL(Section.NATS, "url", Spec.of(ValueType.STRING).def("nats://127.0.0.1:4222")
            .doc("the NATS server")),
    NATS_USER(Section.NATS, "user", Spec.of(ValueType.STRING).doc("user name (with password)")),
    NATS_PASSWORD(Section.NATS, "password", Spec.of(ValueType.SECRET).doc("password of user")),
    NATS_TOKEN(Section.NATS, "token", Spec.of(ValueType.SECRET).doc("authentication token (instead of user/password)")),
    REDIS_URL(Section.REDIS, "url", Spec.of(ValueType.STRING).def("redis://127.0.0.1:6379")
            .doc("the Redis server: redis://host:port[/db]")),
    REDIS_USER(Section.REDIS, "user", Spec.of(ValueType.STRING).doc("ACL user name")),
    REDIS_PASSWORD(Section.REDIS, "password", Spec.of(ValueType.SECRET).doc("password (of user, or the default user)")),

    SOURCE_KAFKA_TOPICS(Section.SOURCE_KAFKA, "topics", Spec.of(ValueType.STRING_LIST).need(Requirement.REQUIRED)
            .doc("topics read; positions are kept in PostgreSQL with the inbox rows")),
    SOURCE_NATS_STREAM(Section.SOURCE_NATS, "stream", Spec.of(ValueType.STRING).need(Requirement.REQUIRED)
            .doc("the JetStream stream read")),
    SOURCE_NATS_SUBJECT(Section.SOURCE_NATS, "subject", Spec.of(ValueType.STRING).def(">")
            .doc("filter subject; > is all of the stream")),
    SOURCE_NATS_DURABLE(Section.SOURCE_NATS, "durable", Spec.of(ValueType.STRING).computed("pgtrickle-<pipeline name>")
            .doc("durable consumer name")),
    SOURCE_REDIS_STREAM_KEY(Section.SOURCE_REDIS, "stream_key", Spec.of(ValueType.STRING).need(Requirement.REQUIRED)
            .doc("the Redis stream read")),
    SOURCE_REDIS_GROUP(Section.SOURCE_REDIS, "group", Spec.of(ValueType.STRING).def("pgtrickle")
            .doc("consumer group (created when missing)")),
    SOURCE_REDIS_CONSUMER(Section.SOURCE_REDIS, "consumer", Spec.of(ValueType.STRING)
            .computed("pgtrickle-<pipeline name>").doc("consumer name within the group")),

    SINK_TYPE(Section.SINK_FORWARD, "type", Spec.choice("kafka", "nats", "redis", "stdout").need(Requirement.REQUIRED)
            .doc("where the changes are published")),
    SINK_KAFKA_TOPIC(Section.SINK_KAFKA, "topic", Spec.of(ValueType.TEMPLATE).def("pgtrickle.{stream_table}")
            .doc("topic per change")),
    SINK_KAFKA_TRANSACTIONAL_ID(Section.SINK_KAFKA, "transactional_id", Spec.of(ValueType.STRING)
            .computed("pgtrickle-relay.<relay_group_id>.<pipeline name>")
            .doc("the transactional producer's id; unique per pipeline")),
    SINK_NATS_STREAM(Section.SINK_NATS, "stream", Spec.of(ValueType.STRING).need(Requirement.REQUIRED)
            .doc("the JetStream stream published to")),
    SINK_NATS_SUBJECT(Section.SINK_NATS, "subject", Spec.of(ValueType.TEMPLATE).def("pgtrickle.{stream_table}.{op}")
            .doc("subject per change; the stream must capture it")),
    SINK_NATS_DUPLICATE_WINDOW(Section.SINK_NATS, "duplicate_window", Spec.of(ValueType.DURATION).def("2m")
            .doc("the stream's duplicate window must be at least this (the longest outage covered)")),
    SINK_NATS_CREATE_STREAM(Section.SINK_NATS, "create_stream", Spec.of(ValueType.BOOLEAN).def(true)
            .doc("create the stream at start when missing (else it must exist)")),
    SINK_REDIS_STREAM_KEY(Section.SINK_REDIS, "stream_key", Spec.of(ValueType.TEMPLATE).def("pgtrickle:{stream_table}")
            .doc("stream key per change")),
    SINK_REDIS_MAXLEN(Section.SINK_REDIS, "maxlen", Spec.of(ValueType.INTEGER).range(1, Long.MAX_VALUE)
            .doc("trim the stream to about this many entries (XADD MAXLEN ~)")),

    SINK_INBOX(Section.SINK_INBOX, "inbox", Spec.of(ValueType.STRING).need(Requirement.REQUIRED)
            .doc("the inbox filled")),
    SINK_EVENT_ID(Section.SINK_INBOX, "event_id", Spec.of(ValueType.RULE).def("coordinates")
            .doc("where each message's event id comes from (never the message key alone)")),
    SINK_EVENT_TYPE(Section.SINK_INBOX, "event_type", Spec.of(ValueType.RULE).doc("where the event type comes from")),
    SINK_AGGREGATE_ID(Section.SINK_INBOX, "aggregate_id", Spec.of(ValueType.RULE)
            .doc("where the aggregate id comes from"));

    private final Section section;
    private final String key;
    private final Spec spec;

    ConfigKey(Section section, String key, Spec spec) {
        this.section = section;
        this.key = key;
        this.spec = spec;
    }

    public Section section() {
        return section;
    }

    /** The name as written in relay.toml. */
    public String key() {
        return key;
    }

    public ValueType type() {
        return spec.type;
    }

    public Requirement requirement() {
        return spec.requirement;
    }

    /** The default as a TOML value (String, Long or Boolean); null when none or {@link #computedDefault()}. */
    public Object defaultValue() {
        return spec.defaultValue;
    }

    /** A default derived from other keys, described for the reference (e.g. {@code pgtrickle-<pipeline name>}). */
    public String computedDefault() {
        return spec.computed;
    }

    /** The valid values of a {@link ValueType#CHOICE} key. */
    public List<String> choices() {
        return spec.choices;
    }

    public long min() {
        return spec.min;
    }

    public long max() {
        return spec.max;
    }

    /** Only a forward pipeline takes it. */
    public boolean forwardOnly() {
        return spec.forwardOnly;
    }

    public String doc() {
        return spec.doc;
    }

    /** Whether a {@code PGTRICKLE_RELAY_*} variable can set it: top-level and {@code [engine]} values. */
    public boolean overridable() {
        return (section == Section.TOP || section == Section.ENGINE)
                && type() != ValueType.TABLE && type() != ValueType.TABLE_ARRAY;
    }

    /** The environment variable overriding it, e.g. {@code PGTRICKLE_RELAY_ENGINE_EMBEDDED}; null if none. */
    public String environmentVariable() {
        if (!overridable()) {
            return null;
        }
        return "PGTRICKLE_RELAY_" + (section == Section.ENGINE ? "ENGINE_" : "") + key.toUpperCase();
    }

    public static List<ConfigKey> in(Section section) {
        List<ConfigKey> keys = new ArrayList<>();
        for (ConfigKey k : values()) {
            if (k.section == section) {
                keys.add(k);
            }
        }
        return keys;
    }

    /** How a key is declared; built fluently in the constants above. */
    static final class Spec {
        private final ValueType type;
        private List<String> choices = List.of();
        private Requirement requirement = Requirement.OPTIONAL;
        private Object defaultValue;
        private String computed;
        private long min = Long.MIN_VALUE;
        private long max = Long.MAX_VALUE;
        private boolean forwardOnly;
        private String doc = "";

        private Spec(ValueType type) {
            this.type = type;
        }

        static Spec of(ValueType type) {
            return new Spec(type);
        }

        static Spec choice(String... values) {
            Spec s = new Spec(ValueType.CHOICE);
            s.choices = List.of(values);
            return s;
        }

        Spec need(Requirement r) {
            requirement = r;
            return this;
        }

        Spec def(Object value) {
            defaultValue = value;
            return this;
        }

        Spec computed(String description) {
            computed = description;
            return this;
        }

        Spec range(long lo, long hi) {
            min = lo;
            max = hi;
            return this;
        }

        Spec forwardOnly() {
            forwardOnly = true;
            return this;
        }

        Spec doc(String text) {
            doc = text;
            return this;
        }
    }
}
