package io.pgtrickle.relay.config;

/** The type of a {@link ConfigKey}'s value, as the reference and the type errors name it. */
public enum ValueType {
    STRING("string"),
    SECRET("string (secret)"),
    BOOLEAN("boolean"),
    INTEGER("integer"),
    DURATION("duration (250ms, 30s, 2m, 1h)"),
    TEMPLATE("template ({stream_table}, {op})"),
    RULE("rule (header:<name>, field:<dotted.path>, coordinates)"),
    CHOICE("one of"),
    STRING_LIST("array of strings"),
    PROPERTIES("table of strings (secrets)"),
    TABLE("table"),
    TABLE_ARRAY("array of tables");

    private final String description;

    ValueType(String description) {
        this.description = description;
    }

    public String description() {
        return description;
    }
}
