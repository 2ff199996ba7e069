package io.pgtrickle.relay.config;

import java.util.ArrayList;
import java.util.List;

/**
 * The keys one TOML table of relay.toml takes: the union of some {@link Section}s. {@code label}
 * names the table in error messages, e.g. {@code [pipeline.sink] type = "nats"}.
 */
public record TableShape(String label, List<Section> sections) {
    public static final TableShape TOP = new TableShape("the top level", List.of(Section.TOP));
    public static final TableShape ENGINE = new TableShape("[engine]", List.of(Section.ENGINE));
    public static final TableShape STREAM_TABLE = new TableShape("[[stream_table]]", List.of(Section.STREAM_TABLE));
    public static final TableShape PIPELINE = new TableShape("[[pipeline]]", List.of(Section.PIPELINE));
    public static final TableShape OUTBOX_SOURCE = new TableShape("[pipeline.source] of a forward pipeline",
            List.of(Section.SOURCE_OUTBOX));
    public static final TableShape KAFKA_SOURCE = new TableShape("[pipeline.source] type = \"kafka\"",
            List.of(Section.SOURCE_REVERSE, Section.KAFKA, Section.SOURCE_KAFKA));
    public static final TableShape NATS_SOURCE = new TableShape("[pipeline.source] type = \"nats\"",
            List.of(Section.SOURCE_REVERSE, Section.NATS, Section.SOURCE_NATS));
    public static final TableShape REDIS_SOURCE = new TableShape("[pipeline.source] type = \"redis\"",
            List.of(Section.SOURCE_REVERSE, Section.REDIS, Section.SOURCE_REDIS));
    public static final TableShape KAFKA_SINK = new TableShape("[pipeline.sink] type = \"kafka\"",
            List.of(Section.SINK_FORWARD, Section.KAFKA, Section.SINK_KAFKA));
    public static final TableShape NATS_SINK = new TableShape("[pipeline.sink] type = \"nats\"",
            List.of(Section.SINK_FORWARD, Section.NATS, Section.SINK_NATS));
    public static final TableShape REDIS_SINK = new TableShape("[pipeline.sink] type = \"redis\"",
            List.of(Section.SINK_FORWARD, Section.REDIS, Section.SINK_REDIS));
    public static final TableShape STDOUT_SINK = new TableShape("[pipeline.sink] type = \"stdout\"",
            List.of(Section.SINK_FORWARD));
    public static final TableShape INBOX_SINK = new TableShape("[pipeline.sink] of a reverse pipeline",
            List.of(Section.SINK_INBOX));

    public TableShape {
        sections = List.copyOf(sections);
    }

    public List<ConfigKey> keys() {
        List<ConfigKey> keys = new ArrayList<>();
        for (Section s : sections) {
            keys.addAll(ConfigKey.in(s));
        }
        return keys;
    }

    /** The key of this table named {@code name}; null when it takes none. */
    public ConfigKey find(String name) {
        for (ConfigKey k : keys()) {
            if (k.key().equals(name)) {
                return k;
            }
        }
        return null;
    }
}
