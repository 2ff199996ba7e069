package io.pgtrickle.relay.config;

/**
 * A group of {@link ConfigKey}s that always appear together. A TOML table of relay.toml is made of
 * one or more sections (see {@link TableShape}): a NATS sink, for one, takes the keys of
 * {@link #SINK_FORWARD}, {@link #NATS} and {@link #SINK_NATS}.
 */
public enum Section {
    TOP("(top level)"),
    ENGINE("[engine]"),
    STREAM_TABLE("[[stream_table]]"),
    PIPELINE("[[pipeline]]"),
    SOURCE_OUTBOX("[pipeline.source] (forward)"),
    SOURCE_REVERSE("[pipeline.source] (reverse)"),
    KAFKA("[pipeline.source] / [pipeline.sink] type = \"kafka\""),
    NATS("[pipeline.source] / [pipeline.sink] type = \"nats\""),
    REDIS("[pipeline.source] / [pipeline.sink] type = \"redis\""),
    SOURCE_KAFKA("[pipeline.source] type = \"kafka\""),
    SOURCE_NATS("[pipeline.source] type = \"nats\""),
    SOURCE_REDIS("[pipeline.source] type = \"redis\""),
    SINK_FORWARD("[pipeline.sink] (forward)"),
    SINK_KAFKA("[pipeline.sink] type = \"kafka\""),
    SINK_NATS("[pipeline.sink] type = \"nats\""),
    SINK_REDIS("[pipeline.sink] type = \"redis\""),
    SINK_INBOX("[pipeline.sink] (reverse)");

    private final String label;

    Section(String label) {
        this.label = label;
    }

    /** How the reference and the error messages name the section, e.g. {@code [pipeline.sink] type = "kafka"}. */
    public String label() {
        return label;
    }
}
