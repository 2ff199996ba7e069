package io.pgtrickle.relay.config;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Generates docs/relay-config.md, the reference of every relay.toml key, from {@link ConfigKey}.
 * Run {@code main} with the output path (default {@code docs/relay-config.md}); a unit test fails
 * when the file in the repository differs from what this generates.
 */
public final class ConfigReference {
    public static final String FILE = "docs/relay-config.md";

    private ConfigReference() {
    }

    public static void main(String[] args) throws IOException {
        Path out = Path.of(args.length > 0 ? args[0] : FILE);
        Files.writeString(out, markdown(), StandardCharsets.UTF_8);
        System.out.println("wrote " + out.toAbsolutePath());
    }

    public static String markdown() {
        StringBuilder s = new StringBuilder();
        s.append("# relay.toml reference\n\n")
                .append("<!-- Generated from io.pgtrickle.relay.config.ConfigKey by ConfigReference; do not edit.\n")
                .append("     Regenerate: ./mvnw -B -q -o -pl relay test -Dtest=ConfigReferenceTest -Dregenerate=true -->\n\n")
                .append("Every key `bin/pgtrickle-relay` reads. Any string value may hold `${ENV:NAME}` (an environment\n")
                .append("variable) or `${FILE:path}` (a file's content without its trailing newline; relative to the\n")
                .append("config file's directory). Keys typed *secret*, and every `properties` value, print as `****`.\n")
                .append("Examples: `config-examples/`.\n\n")
                .append("The top-level and `[engine]` keys can be overridden by environment variables, which win over\n")
                .append("the file: `PGTRICKLE_RELAY_<KEY>` and `PGTRICKLE_RELAY_ENGINE_<KEY>` (column *Environment*).\n")
                .append("An unknown `PGTRICKLE_RELAY_*` variable is an error.\n\n")
                .append("Errors name the key by its path, with `pipeline \"<name>\"` (or `pipeline[<n>]`, counting from 1,\n")
                .append("while the name is unknown), and its line:column.\n\n")
                .append(table());
        return s.toString();
    }

    /** One row per key, in the registry's order: Table, Key, Type, Required, Default, Environment, Description. */
    public static String table() {
        StringBuilder s = new StringBuilder();
        s.append("| Table | Key | Type | Required | Default | Environment | Description |\n")
                .append("|---|---|---|---|---|---|---|\n");
        for (ConfigKey k : ConfigKey.values()) {
            s.append("| ").append(cell(k.section().label()))
                    .append(" | `").append(k.key()).append('`')
                    .append(" | ").append(cell(type(k)))
                    .append(" | ").append(cell(k.requirement().text()))
                    .append(" | ").append(cell(defaultText(k)))
                    .append(" | ").append(k.environmentVariable() == null ? "" : "`" + k.environmentVariable() + "`")
                    .append(" | ").append(cell(k.doc()))
                    .append(" |\n");
        }
        return s.toString();
    }

    private static String type(ConfigKey k) {
        String t = k.type().description();
        if (k.type() == ValueType.CHOICE) {
            t += " " + String.join(", ", k.choices());
        }
        if (k.type() == ValueType.INTEGER && (k.min() != Long.MIN_VALUE)) {
            t += k.max() == Long.MAX_VALUE || k.max() == Integer.MAX_VALUE ? " >= " + k.min() : " " + k.min() + ".." + k.max();
        }
        return t;
    }

    private static String defaultText(ConfigKey k) {
        Object d = k.defaultValue();
        if (d instanceof String str) {
            return "\"" + str + "\"";
        }
        if (d != null) {
            return d.toString();
        }
        return k.computedDefault() != null ? k.computedDefault() : "";
    }

    /** Markdown table cell text: pipes escaped, the rest literal. */
    private static String cell(String text) {
        return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;");
    }
}
