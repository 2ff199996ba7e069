package io.pgtrickle.relay.config;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The {@code PGTRICKLE_RELAY_<KEY>} (top level) and {@code PGTRICKLE_RELAY_ENGINE_<KEY>}
 * ({@code [engine]}) variables; they win over the file. An unknown {@code PGTRICKLE_RELAY_*}
 * variable is a problem naming the nearest valid one, since a misspelt override would otherwise be
 * ignored without a word.
 */
final class EnvironmentOverrides {
    static final String PREFIX = "PGTRICKLE_RELAY_";

    /** One variable's value for one key. */
    record Override(String variable, String value) {
        String location() {
            return "environment variable " + variable;
        }
    }

    private EnvironmentOverrides() {
    }

    static Map<ConfigKey, Override> read(Map<String, String> env, Problems problems) {
        Map<String, ConfigKey> byVariable = new TreeMap<>();
        for (ConfigKey k : ConfigKey.values()) {
            if (k.overridable()) {
                byVariable.put(k.environmentVariable(), k);
            }
        }
        Map<ConfigKey, Override> overrides = new EnumMap<>(ConfigKey.class);
        for (Map.Entry<String, String> e : new TreeMap<>(env).entrySet()) {
            if (!e.getKey().startsWith(PREFIX)) {
                continue;
            }
            ConfigKey key = byVariable.get(e.getKey());
            if (key != null) {
                overrides.put(key, new Override(e.getKey(), e.getValue()));
                continue;
            }
            List<String> names = new ArrayList<>(byVariable.keySet());
            String near = KeyHints.nearest(e.getKey(), names);
            problems.add(null, "environment variable " + e.getKey(), "unknown variable " + e.getKey() + "; "
                    + (near != null ? "did you mean " + near + "?" : "the relay reads " + String.join(", ", names))
                    + " (or unset it)");
        }
        return overrides;
    }
}
