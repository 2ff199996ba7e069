package io.pgtrickle.connect.source;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;

/**
 * The key reference of docs/connector-source.md and the plugin's README, printed from
 * {@link PgTrickleSourceConfig#CONFIG_DEF}: never written by hand.
 */
public final class ConfigReference {
    /** Relative to the repository's root. */
    public static final String FILE = "docs/connector-source.md";
    static final String TABLE_START = "<!-- generated from PgTrickleSourceConfig: begin -->";
    static final String TABLE_END = "<!-- generated from PgTrickleSourceConfig: end -->";

    private ConfigReference() {
    }

    public static void main(String[] args) {
        System.out.print(table());
    }

    /** One table per group, keys in their order in the group. */
    public static String table() {
        Map<String, List<ConfigKey>> groups = new LinkedHashMap<>();
        for (String group : PgTrickleSourceConfig.CONFIG_DEF.groups()) {
            groups.put(group, new ArrayList<>());
        }
        for (ConfigKey k : PgTrickleSourceConfig.CONFIG_DEF.configKeys().values()) {
            groups.get(k.group).add(k);
        }
        StringBuilder md = new StringBuilder(TABLE_START).append("\n");
        for (Map.Entry<String, List<ConfigKey>> g : groups.entrySet()) {
            g.getValue().sort(Comparator.comparingInt(k -> k.orderInGroup));
            md.append("\n#### ").append(g.getKey()).append("\n\n");
            md.append("| Key | Display name | Type | Default | Valid values | Importance | Description |\n");
            md.append("|---|---|---|---|---|---|---|\n");
            for (ConfigKey k : g.getValue()) {
                md.append("| `").append(k.name).append("` | ").append(k.displayName).append(" | ")
                        .append(k.type.name().toLowerCase()).append(" | ").append(defaultValue(k)).append(" | ")
                        .append(k.validator == null ? "" : cell(k.validator.toString())).append(" | ")
                        .append(k.importance.name().toLowerCase()).append(" | ").append(cell(k.documentation)).append(" |\n");
            }
        }
        return md.append("\n").append(TABLE_END).append("\n").toString();
    }

    private static String defaultValue(ConfigKey k) {
        if (!k.hasDefault()) {
            return "(required)";
        }
        if (k.defaultValue == null) {
            return "(none)";
        }
        String v = ConfigDef.convertToString(k.defaultValue, k.type);
        return v.isEmpty() ? "(empty)" : "`" + v + "`";
    }

    private static String cell(String text) {
        return text.replace("|", "\\|").replace("\n", " ");
    }

    /** {@code document} with the text between the markers replaced by {@link #table()}. */
    public static String replaceTable(String document) {
        int start = document.indexOf(TABLE_START);
        int end = document.indexOf(TABLE_END);
        if (start < 0 || end < start) {
            throw new IllegalArgumentException("the document has no " + TABLE_START + " ... " + TABLE_END + " markers");
        }
        return document.substring(0, start) + table() + document.substring(end + TABLE_END.length() + 1);
    }
}
