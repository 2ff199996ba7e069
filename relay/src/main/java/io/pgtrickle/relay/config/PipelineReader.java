package io.pgtrickle.relay.config;

import io.pgtrickle.format.FieldRule;
import io.pgtrickle.format.FormatName;
import io.pgtrickle.format.Template;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.tomlj.TomlArray;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/** Reads the {@code [[pipeline]]} tables: direction, source, sink and their cross-checks. */
final class PipelineReader {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]+");

    private final TableReader top;
    private final String relayGroupId;
    private final Map<String, String> firstSeen = new HashMap<>();
    private final java.util.Map<String, String[]> destinations = new java.util.HashMap<>();

    PipelineReader(TableReader top, String relayGroupId) {
        this.top = top;
        this.relayGroupId = relayGroupId;
    }

    List<PipelineConfig> read() {
        TomlArray array = top.tableArray(ConfigKey.PIPELINES);
        List<PipelineConfig> out = new ArrayList<>();
        if (array == null) {
            return out;
        }
        for (int i = 0; i < array.size(); i++) {
            TomlPosition at = array.inputPositionOf(i);
            TableReader r = top.child(array.getTable(i), "pipeline[" + (i + 1) + "]", at, TableShape.PIPELINE);
            PipelineConfig p = pipeline(r);
            if (p != null) {
                out.add(p);
            }
        }
        return out;
    }

    private PipelineConfig pipeline(TableReader r) {
        String name = r.nonBlank(ConfigKey.PIPELINE_NAME);
        if (name != null && !NAME.matcher(name).matches()) {
            r.problem(ConfigKey.PIPELINE_NAME, "bad pipeline name \"" + name
                    + "\"; use letters, digits, '_', '.' and '-' only (it names a lock, metrics and ids)");
            name = null;
        }
        if (name != null) {
            String where = r.where(ConfigKey.PIPELINE_NAME);
            r = r.withPath("pipeline \"" + name + "\"");
            String previous = firstSeen.putIfAbsent(name, where);
            if (previous != null) {
                r.problem(ConfigKey.PIPELINE_NAME, "duplicate pipeline name \"" + name + "\" (first at " + previous
                        + "); give each [[pipeline]] its own name");
            }
        }
        r.checkKeys();
        String dir = r.choice(ConfigKey.PIPELINE_DIRECTION);
        Direction direction = dir == null ? null : Direction.valueOf(dir.toUpperCase());
        Boolean enabled = r.bool(ConfigKey.PIPELINE_ENABLED);
        FormatName format = null;
        if (direction == Direction.REVERSE && r.has(ConfigKey.PIPELINE_FORMAT)) {
            r.problem(ConfigKey.PIPELINE_FORMAT, "format applies to forward pipelines only (a reverse pipeline stores"
                    + " what it receives); remove it from this reverse pipeline");
        } else if (direction == Direction.FORWARD) {
            String f = r.choice(ConfigKey.PIPELINE_FORMAT);
            format = f == null ? null : FormatName.valueOf(f.toUpperCase());
        }
        Long batch = r.integer(ConfigKey.PIPELINE_BATCH_SIZE);
        Duration initial = r.duration(ConfigKey.PIPELINE_RETRY_INITIAL_BACKOFF);
        Duration max = r.duration(ConfigKey.PIPELINE_RETRY_MAX_BACKOFF);
        if (initial != null && max != null && initial.compareTo(max) > 0) {
            r.problem(ConfigKey.PIPELINE_RETRY_MAX_BACKOFF, "retry_max_backoff (" + Durations.format(max)
                    + ") is shorter than retry_initial_backoff (" + Durations.format(initial) + "); raise it or lower"
                    + " retry_initial_backoff");
        }
        TomlTable sourceTable = r.table(ConfigKey.PIPELINE_SOURCE);
        TomlTable sinkTable = r.table(ConfigKey.PIPELINE_SINK);
        if (direction == null) {
            return null;
        }
        String pipelineName = name == null ? "unnamed" : name;
        SourceConfig source = sourceTable == null ? null
                : new SourceReader(sub(r, ConfigKey.PIPELINE_SOURCE, sourceTable), pipelineName).read(direction);
        SinkConfig sink = sinkTable == null ? null
                : new SinkReader(sub(r, ConfigKey.PIPELINE_SINK, sinkTable), pipelineName, relayGroupId).read(direction);
        if (name == null || source == null || sink == null || enabled == null || batch == null || initial == null
                || max == null || (direction == Direction.FORWARD && format == null)) {
            return null;
        }
        if (direction == Direction.FORWARD) {
            refuseSharedDestination(r, name, source, sink);
        }
        return new PipelineConfig(name, direction, enabled, source, sink, format, Math.toIntExact(batch), initial, max);
    }

    /**
     * Two forward pipelines of different stream tables publishing to one topic, subject or stream
     * key would mix their positions: each would take the other's as its own and skip or refuse
     * changes. Refused, naming both pipelines and the destination.
     */
    private void refuseSharedDestination(TableReader r, String name, SourceConfig source, SinkConfig sink) {
        String streamTable = ((SourceConfig.StreamTable) source).streamTable();
        String target;
        Template template;
        ConfigKey key;
        if (sink instanceof SinkConfig.Kafka k) {
            target = "kafka " + k.endpoint().bootstrapServers();
            template = k.topic();
            key = ConfigKey.SINK_KAFKA_TOPIC;
        } else if (sink instanceof SinkConfig.Nats n) {
            target = "nats " + n.endpoint().url() + " stream " + n.stream();
            template = n.subject();
            key = ConfigKey.SINK_NATS_SUBJECT;
        } else if (sink instanceof SinkConfig.Redis rs) {
            target = "redis " + rs.endpoint().url();
            template = rs.streamKey();
            key = ConfigKey.SINK_REDIS_STREAM_KEY;
        } else {
            return;
        }
        for (String destination : template.expansions(streamTable)) {
            String[] previous = destinations.putIfAbsent(target + " " + destination, new String[] {name, streamTable});
            if (previous != null && !previous[1].equals(streamTable)) {
                r.problem(key, "pipelines \"" + previous[0] + "\" (" + previous[1] + ") and \"" + name + "\" ("
                        + streamTable + ") both publish to " + destination + " on " + target
                        + "; their positions would collide: put {stream_table} in the template, or give each its own");
                return;
            }
        }
    }

    private static TableReader sub(TableReader r, ConfigKey key, TomlTable table) {
        // the shape is decided by the source or sink reader once it knows the type
        return r.child(table, r.pathOf(key.key()), r.positionOf(key), TableShape.PIPELINE);
    }

    /** {@code [pipeline.source]}. */
    private record SourceReader(TableReader r, String pipeline) {
        SourceConfig read(Direction direction) {
            boolean typed = r.table().contains("type");
            if (direction == Direction.FORWARD) {
                if (typed) {
                    problem("a forward pipeline reads a stream table's outbox: [pipeline.source] takes stream_table,"
                            + " not type; to fill an inbox from " + r.table().get("type") + " set direction = \"reverse\"");
                    return null;
                }
                TableReader s = shaped(TableShape.OUTBOX_SOURCE);
                s.checkKeys();
                String st = s.nonBlank(ConfigKey.SOURCE_STREAM_TABLE);
                return st == null ? null : new SourceConfig.StreamTable(st);
            }
            if (!typed && r.table().contains("stream_table")) {
                problem("a reverse pipeline reads from kafka, nats or redis: set [pipeline.source] type; stream_table"
                        + " belongs to forward pipelines (direction = \"forward\")");
                return null;
            }
            String type = shaped(TableShape.KAFKA_SOURCE).choice(ConfigKey.SOURCE_TYPE);
            if (type == null) {
                return null;
            }
            return switch (type) {
                case "kafka" -> kafka(shaped(TableShape.KAFKA_SOURCE));
                case "nats" -> nats(shaped(TableShape.NATS_SOURCE));
                default -> redis(shaped(TableShape.REDIS_SOURCE));
            };
        }

        private void problem(String message) {
            r.tableProblem(message);
        }

        private TableReader shaped(TableShape shape) {
            return r.reshape(shape);
        }

        private SourceConfig kafka(TableReader s) {
            s.checkKeys();
            KafkaEndpoint endpoint = Endpoints.kafka(s);
            List<String> topics = s.strings(ConfigKey.SOURCE_KAFKA_TOPICS);
            return endpoint == null || topics == null ? null : new SourceConfig.Kafka(endpoint, topics);
        }

        private SourceConfig nats(TableReader s) {
            s.checkKeys();
            NatsEndpoint endpoint = Endpoints.nats(s);
            String stream = s.nonBlank(ConfigKey.SOURCE_NATS_STREAM);
            String subject = s.nonBlank(ConfigKey.SOURCE_NATS_SUBJECT);
            String durable = s.string(ConfigKey.SOURCE_NATS_DURABLE, () -> "pgtrickle-" + pipeline);
            return endpoint == null || stream == null || subject == null || durable == null ? null
                    : new SourceConfig.Nats(endpoint, stream, subject, durable);
        }

        private SourceConfig redis(TableReader s) {
            s.checkKeys();
            RedisEndpoint endpoint = Endpoints.redis(s);
            String key = s.nonBlank(ConfigKey.SOURCE_REDIS_STREAM_KEY);
            String group = s.nonBlank(ConfigKey.SOURCE_REDIS_GROUP);
            String consumer = s.string(ConfigKey.SOURCE_REDIS_CONSUMER, () -> "pgtrickle-" + pipeline);
            return endpoint == null || key == null || group == null || consumer == null ? null
                    : new SourceConfig.Redis(endpoint, key, group, consumer);
        }
    }

    /** {@code [pipeline.sink]}. */
    private record SinkReader(TableReader r, String pipeline, String relayGroupId) {
        SinkConfig read(Direction direction) {
            boolean typed = r.table().contains("type");
            if (direction == Direction.REVERSE) {
                if (typed) {
                    r.tableProblem("a reverse pipeline fills an inbox: [pipeline.sink] takes inbox,"
                            + " not type; to publish to " + r.table().get("type") + " set direction = \"forward\"");
                    return null;
                }
                return inbox(r.reshape(TableShape.INBOX_SINK));
            }
            if (!typed && r.table().contains("inbox")) {
                r.tableProblem("a forward pipeline publishes to kafka, nats, redis or stdout: set"
                        + " [pipeline.sink] type; inbox belongs to reverse pipelines (direction = \"reverse\")");
                return null;
            }
            String type = r.reshape(TableShape.STDOUT_SINK).choice(ConfigKey.SINK_TYPE);
            if (type == null) {
                return null;
            }
            return switch (type) {
                case "kafka" -> kafka(r.reshape(TableShape.KAFKA_SINK));
                case "nats" -> nats(r.reshape(TableShape.NATS_SINK));
                case "redis" -> redis(r.reshape(TableShape.REDIS_SINK));
                default -> {
                    r.reshape(TableShape.STDOUT_SINK).checkKeys();
                    yield new SinkConfig.Stdout();
                }
            };
        }

        private SinkConfig kafka(TableReader s) {
            s.checkKeys();
            KafkaEndpoint endpoint = Endpoints.kafka(s);
            Template topic = s.template(ConfigKey.SINK_KAFKA_TOPIC);
            String txId = s.string(ConfigKey.SINK_KAFKA_TRANSACTIONAL_ID,
                    () -> "pgtrickle-relay." + relayGroupId + "." + pipeline);
            return endpoint == null || topic == null || txId == null ? null : new SinkConfig.Kafka(endpoint, topic, txId);
        }

        private SinkConfig nats(TableReader s) {
            s.checkKeys();
            NatsEndpoint endpoint = Endpoints.nats(s);
            String stream = s.nonBlank(ConfigKey.SINK_NATS_STREAM);
            Template subject = s.template(ConfigKey.SINK_NATS_SUBJECT);
            Duration window = s.duration(ConfigKey.SINK_NATS_DUPLICATE_WINDOW);
            Boolean create = s.bool(ConfigKey.SINK_NATS_CREATE_STREAM);
            return endpoint == null || stream == null || subject == null || window == null || create == null ? null
                    : new SinkConfig.Nats(endpoint, stream, subject, window, create);
        }

        private SinkConfig redis(TableReader s) {
            s.checkKeys();
            RedisEndpoint endpoint = Endpoints.redis(s);
            Template key = s.template(ConfigKey.SINK_REDIS_STREAM_KEY);
            Long maxlen = s.has(ConfigKey.SINK_REDIS_MAXLEN) ? s.integer(ConfigKey.SINK_REDIS_MAXLEN) : null;
            boolean badMaxlen = s.has(ConfigKey.SINK_REDIS_MAXLEN) && maxlen == null;
            return endpoint == null || key == null || badMaxlen ? null : new SinkConfig.Redis(endpoint, key, maxlen);
        }

        private SinkConfig inbox(TableReader s) {
            s.checkKeys();
            String inbox = s.nonBlank(ConfigKey.SINK_INBOX);
            FieldRule id = s.rule(ConfigKey.SINK_EVENT_ID);
            boolean badOptional = false;
            FieldRule type = null;
            FieldRule aggregate = null;
            if (s.has(ConfigKey.SINK_EVENT_TYPE)) {
                type = s.rule(ConfigKey.SINK_EVENT_TYPE);
                badOptional = type == null;
            }
            if (s.has(ConfigKey.SINK_AGGREGATE_ID)) {
                aggregate = s.rule(ConfigKey.SINK_AGGREGATE_ID);
                badOptional |= aggregate == null;
            }
            return inbox == null || id == null || badOptional ? null : new SinkConfig.Inbox(inbox, id, type, aggregate);
        }
    }
}
