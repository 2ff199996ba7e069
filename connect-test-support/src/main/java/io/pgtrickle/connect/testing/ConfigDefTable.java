package io.pgtrickle.connect.testing;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.kafka.common.config.ConfigDef;
import org.apache.kafka.common.config.ConfigDef.ConfigKey;

/**
 * The reference table of a connector's keys, printed from its {@link ConfigDef} (by group, then
 * order in the group), as the README, docs/ and the plugin archives' READMEs hold it.
 */
public final class ConfigDefTable {
    private ConfigDefTable() {
    }

    /** One row per key: Key, Group, Type, Default, Valid values, Importance, Description. */
    public static String markdown(ConfigDef def) {
        List<ConfigKey> keys = new ArrayList<>(def.configKeys().values());
        List<String> groups = def.groups();
        keys.sort(Comparator.<ConfigKey>comparingInt(k -> groups.indexOf(k.group)).thenComparingInt(k -> k.orderInGroup));
        StringBuilder out = new StringBuilder();
        out.append("| Key | Group | Type | Default | Valid values | Importance | Description |\n");
        out.append("|---|---|---|---|---|---|---|\n");
        for (ConfigKey k : keys) {
            out.append("| `").append(k.name).append("` | ").append(k.group == null ? "" : k.group).append(" | ")
                    .append(k.type.name().toLowerCase()).append(" | ").append(defaultText(k)).append(" | ")
                    .append(k.validator == null ? "" : cell(k.validator.toString())).append(" | ")
                    .append(k.importance.name().toLowerCase()).append(" | ").append(cell(k.documentation))
                    .append(" |\n");
        }
        return out.toString();
    }

    private static String defaultText(ConfigKey k) {
        if (!k.hasDefault()) {
            return "(required)";
        }
        if (k.defaultValue == null || k.type == ConfigDef.Type.PASSWORD) {
            return "";
        }
        String text = ConfigDef.convertToString(k.defaultValue, k.type);
        return text.isEmpty() ? "" : "`" + text + "`";
    }

    private static String cell(String text) {
        return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;").replace("\n", " ");
    }
}
