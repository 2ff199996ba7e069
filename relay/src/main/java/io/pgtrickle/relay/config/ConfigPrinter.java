package io.pgtrickle.relay.config;

import io.pgtrickle.format.FieldRule;
import java.time.Duration;
import java.util.List;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.tomlj.MutableTomlArray;
import org.tomlj.MutableTomlTable;

/**
 * Prints the effective configuration (defaults filled in) as TOML, for {@code pgtrickle-relay check}:
 * every {@link Secret} as {@code ****}, and a password inside {@code postgres_url} masked too. Keys
 * are named by {@link ConfigKey}, so the output reads back with {@link ConfigLoader} (secrets aside).
 */
public final class ConfigPrinter {
    private static final Pattern USER_INFO_PASSWORD = Pattern.compile("(//[^/@:]*:)[^@/]*@");
    private static final Pattern QUERY_PASSWORD = Pattern.compile("([?&]password=)[^&]*", Pattern.CASE_INSENSITIVE);

    private ConfigPrinter() {
    }

    public static String print(RelayConfig config) {
        MutableTomlTable top = MutableTomlTable.create();
        set(top, ConfigKey.POSTGRES_URL, config.postgresUrl() == null ? null : maskUrl(config.postgresUrl()));
        set(top, ConfigKey.POSTGRES_PASSWORD, config.postgresPassword());
        set(top, ConfigKey.METRICS_ADDR, config.metricsAddr());
        set(top, ConfigKey.LOG_LEVEL, config.logLevel());
        set(top, ConfigKey.LOG_FORMAT, config.logFormat());
        set(top, ConfigKey.RELAY_GROUP_ID, config.relayGroupId());
        EngineSettings e = config.engine();
        MutableTomlTable engine = top.getOrCreateTable(List.of(ConfigKey.ENGINE.key()));
        set(engine, ConfigKey.ENGINE_ENABLED, e.enabled());
        set(engine, ConfigKey.ENGINE_EMBEDDED, e.embedded());
        set(engine, ConfigKey.ENGINE_DATA_DIR, e.dataDir() == null ? null : e.dataDir().toString());
        set(engine, ConfigKey.ENGINE_PORT, (long) e.port());
        set(engine, ConfigKey.ENGINE_SLOT_NAME, e.slotName());
        set(engine, ConfigKey.ENGINE_MAX_CONCURRENT_REFRESHES, (long) e.maxConcurrentRefreshes());
        set(engine, ConfigKey.ENGINE_TIERED_SCHEDULING, e.tieredScheduling());
        if (!config.streamTables().isEmpty()) {
            MutableTomlArray tables = top.getOrCreateArray(List.of(ConfigKey.STREAM_TABLES.key()));
            config.streamTables().forEach(st -> tables.add(streamTable(st)));
        }
        if (!config.pipelines().isEmpty()) {
            MutableTomlArray pipelines = top.getOrCreateArray(List.of(ConfigKey.PIPELINES.key()));
            config.pipelines().forEach(p -> pipelines.add(pipeline(p)));
        }
        return top.toToml();
    }

    /** {@code url} with a password in it ({@code user:pass@} or {@code password=}) replaced by {@code ****}. */
    public static String maskUrl(String url) {
        String masked = USER_INFO_PASSWORD.matcher(url).replaceFirst("$1" + Secret.MASK + "@");
        return QUERY_PASSWORD.matcher(masked).replaceAll("$1" + Secret.MASK);
    }

    private static MutableTomlTable streamTable(StreamTableConfig st) {
        MutableTomlTable t = MutableTomlTable.create();
        set(t, ConfigKey.STREAM_TABLE_NAME, st.name());
        set(t, ConfigKey.STREAM_TABLE_QUERY, st.query());
        set(t, ConfigKey.STREAM_TABLE_SCHEDULE, st.schedule());
        set(t, ConfigKey.STREAM_TABLE_REFRESH_MODE, st.refreshMode());
        set(t, ConfigKey.STREAM_TABLE_RETENTION_HOURS, (long) st.retentionHours());
        set(t, ConfigKey.STREAM_TABLE_INLINE_THRESHOLD_ROWS, (long) st.inlineThresholdRows());
        return t;
    }

    private static MutableTomlTable pipeline(PipelineConfig p) {
        MutableTomlTable t = MutableTomlTable.create();
        set(t, ConfigKey.PIPELINE_NAME, p.name());
        set(t, ConfigKey.PIPELINE_DIRECTION, p.direction().name().toLowerCase());
        set(t, ConfigKey.PIPELINE_ENABLED, p.enabled());
        set(t, ConfigKey.PIPELINE_FORMAT, p.format() == null ? null : p.format().name().toLowerCase());
        set(t, ConfigKey.PIPELINE_BATCH_SIZE, (long) p.batchSize());
        set(t, ConfigKey.PIPELINE_RETRY_INITIAL_BACKOFF, p.retryInitialBackoff());
        set(t, ConfigKey.PIPELINE_RETRY_MAX_BACKOFF, p.retryMaxBackoff());
        source(t.getOrCreateTable(List.of(ConfigKey.PIPELINE_SOURCE.key())), p.source());
        sink(t.getOrCreateTable(List.of(ConfigKey.PIPELINE_SINK.key())), p.sink());
        return t;
    }

    private static void source(MutableTomlTable t, SourceConfig source) {
        if (source instanceof SourceConfig.StreamTable s) {
            set(t, ConfigKey.SOURCE_STREAM_TABLE, s.streamTable());
        } else if (source instanceof SourceConfig.Kafka k) {
            set(t, ConfigKey.SOURCE_TYPE, "kafka");
            kafka(t, k.endpoint());
            MutableTomlArray topics = MutableTomlArray.create();
            k.topics().forEach(topics::add);
            t.set(List.of(ConfigKey.SOURCE_KAFKA_TOPICS.key()), topics);
        } else if (source instanceof SourceConfig.Nats n) {
            set(t, ConfigKey.SOURCE_TYPE, "nats");
            nats(t, n.endpoint());
            set(t, ConfigKey.SOURCE_NATS_STREAM, n.stream());
            set(t, ConfigKey.SOURCE_NATS_SUBJECT, n.subject());
            set(t, ConfigKey.SOURCE_NATS_DURABLE, n.durable());
        } else if (source instanceof SourceConfig.Redis r) {
            set(t, ConfigKey.SOURCE_TYPE, "redis");
            redis(t, r.endpoint());
            set(t, ConfigKey.SOURCE_REDIS_STREAM_KEY, r.streamKey());
            set(t, ConfigKey.SOURCE_REDIS_GROUP, r.group());
            set(t, ConfigKey.SOURCE_REDIS_CONSUMER, r.consumer());
        }
    }

    private static void sink(MutableTomlTable t, SinkConfig sink) {
        if (sink instanceof SinkConfig.Kafka k) {
            set(t, ConfigKey.SINK_TYPE, "kafka");
            kafka(t, k.endpoint());
            set(t, ConfigKey.SINK_KAFKA_TOPIC, k.topic().text());
            set(t, ConfigKey.SINK_KAFKA_TRANSACTIONAL_ID, k.transactionalId());
        } else if (sink instanceof SinkConfig.Nats n) {
            set(t, ConfigKey.SINK_TYPE, "nats");
            nats(t, n.endpoint());
            set(t, ConfigKey.SINK_NATS_STREAM, n.stream());
            set(t, ConfigKey.SINK_NATS_SUBJECT, n.subject().text());
            set(t, ConfigKey.SINK_NATS_DUPLICATE_WINDOW, n.duplicateWindow());
            set(t, ConfigKey.SINK_NATS_CREATE_STREAM, n.createStream());
        } else if (sink instanceof SinkConfig.Redis r) {
            set(t, ConfigKey.SINK_TYPE, "redis");
            redis(t, r.endpoint());
            set(t, ConfigKey.SINK_REDIS_STREAM_KEY, r.streamKey().text());
            set(t, ConfigKey.SINK_REDIS_MAXLEN, r.maxlen());
        } else if (sink instanceof SinkConfig.Stdout) {
            set(t, ConfigKey.SINK_TYPE, "stdout");
        } else if (sink instanceof SinkConfig.Inbox i) {
            set(t, ConfigKey.SINK_INBOX, i.inbox());
            set(t, ConfigKey.SINK_EVENT_ID, i.eventId());
            set(t, ConfigKey.SINK_EVENT_TYPE, i.eventType());
            set(t, ConfigKey.SINK_AGGREGATE_ID, i.aggregateId());
        }
    }

    private static void kafka(MutableTomlTable t, KafkaEndpoint k) {
        set(t, ConfigKey.KAFKA_BOOTSTRAP_SERVERS, k.bootstrapServers());
        if (!k.properties().isEmpty()) {
            MutableTomlTable props = t.getOrCreateTable(List.of(ConfigKey.KAFKA_PROPERTIES.key()));
            // a property name is one quoted key ("security.protocol"), not a dotted path
            new TreeMap<>(k.properties()).forEach((name, value) -> props.set(List.of(name), Secret.MASK));
        }
    }

    private static void nats(MutableTomlTable t, NatsEndpoint n) {
        set(t, ConfigKey.NATS_URL, n.url());
        set(t, ConfigKey.NATS_USER, n.user());
        set(t, ConfigKey.NATS_PASSWORD, n.password());
        set(t, ConfigKey.NATS_TOKEN, n.token());
    }

    private static void redis(MutableTomlTable t, RedisEndpoint r) {
        set(t, ConfigKey.REDIS_URL, r.url());
        set(t, ConfigKey.REDIS_USER, r.user());
        set(t, ConfigKey.REDIS_PASSWORD, r.password());
    }

    /** Sets {@code key} to {@code value} as TOML; absent values are left out; secrets print as their mask. */
    private static void set(MutableTomlTable t, ConfigKey key, Object value) {
        if (value == null) {
            return;
        }
        Object toml = value;
        if (value instanceof Secret) {
            toml = Secret.MASK;
        } else if (value instanceof Duration d) {
            toml = Durations.format(d);
        } else if (value instanceof FieldRule r) {
            toml = r.toString();
        }
        t.set(List.of(key.key()), toml);
    }

}
