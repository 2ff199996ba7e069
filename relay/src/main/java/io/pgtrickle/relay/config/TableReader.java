package io.pgtrickle.relay.config;

import io.pgtrickle.format.FieldRule;
import io.pgtrickle.format.Template;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.tomlj.MutableTomlTable;
import org.tomlj.Toml;
import org.tomlj.TomlArray;
import org.tomlj.TomlPosition;
import org.tomlj.TomlTable;

/**
 * Reads the typed values of one TOML table of relay.toml, key by {@link ConfigKey}: fills in
 * defaults, applies environment overrides and secret references, and records every problem (with
 * the key's full path and line) instead of stopping at the first. A getter returns null when the
 * value is missing or invalid; the problem is then already recorded.
 */
final class TableReader {
    private static final TomlTable EMPTY = MutableTomlTable.create();

    private final TomlTable table;
    private final String path;
    private final TomlPosition position;
    private final TableShape shape;
    private final Map<ConfigKey, EnvironmentOverrides.Override> overrides;
    private final SecretReferences references;
    private final Problems problems;

    TableReader(TomlTable table, String path, TomlPosition position, TableShape shape,
                Map<ConfigKey, EnvironmentOverrides.Override> overrides, SecretReferences references,
                Problems problems) {
        this.table = table == null ? EMPTY : table;
        this.path = path;
        this.position = position;
        this.shape = shape;
        this.overrides = overrides;
        this.references = references;
        this.problems = problems;
    }

    /** A reader of the same file for another table (no environment overrides below the top). */
    TableReader child(TomlTable child, String childPath, TomlPosition childPosition, TableShape childShape) {
        return new TableReader(child, childPath, childPosition, childShape, Map.of(), references, problems);
    }

    /** The same table read as {@code newShape} (once a source's or sink's type is known). */
    TableReader reshape(TableShape newShape) {
        return new TableReader(table, path, position, newShape, overrides, references, problems);
    }

    /** The same table with environment overrides (the [engine] table has them). */
    TableReader withOverrides(Map<ConfigKey, EnvironmentOverrides.Override> newOverrides) {
        return new TableReader(table, path, position, shape, newOverrides, references, problems);
    }

    TableReader withPath(String newPath) {
        return new TableReader(table, newPath, position, shape, overrides, references, problems);
    }

    String path() {
        return path;
    }

    TomlPosition position() {
        return position;
    }

    TomlTable table() {
        return table;
    }

    String pathOf(String key) {
        return path.isEmpty() ? key : path + "." + key;
    }

    String where(ConfigKey key) {
        EnvironmentOverrides.Override o = overrides.get(key);
        return o != null ? o.location() : ConfigProblem.at(table.inputPositionOf(List.of(key.key())));
    }

    /** Records a problem about {@code key}, at its line (or the table's when it is not given). */
    void problem(ConfigKey key, String message) {
        String at = has(key) ? where(key) : ConfigProblem.at(position);
        problems.add(pathOf(key.key()), at, message);
    }

    /** Records a problem about the table as a whole, at its header. */
    void tableProblem(String message) {
        problems.add(path, ConfigProblem.at(position), message);
    }

    boolean has(ConfigKey key) {
        return overrides.containsKey(key) || table.contains(List.of(key.key()));
    }

    /** Every key of the table that its shape does not take is a problem with a hint. */
    void checkKeys() {
        checkKeys(Set.of());
    }

    void checkKeys(Set<String> ignored) {
        for (String name : table.keySet()) {
            if (shape.find(name) == null && !ignored.contains(name)) {
                problems.add(pathOf(name), ConfigProblem.at(table.inputPositionOf(List.of(name))),
                        KeyHints.unknownKey(name, shape));
            }
        }
    }

    private Object raw(ConfigKey key) {
        EnvironmentOverrides.Override o = overrides.get(key);
        return o != null ? o.value() : table.get(List.of(key.key()));
    }

    private boolean fromEnvironment(ConfigKey key) {
        return overrides.containsKey(key);
    }

    private void missing(ConfigKey key) {
        if (key.requirement() == Requirement.REQUIRED) {
            problems.add(pathOf(key.key()), ConfigProblem.at(position), "required key '" + key.key()
                    + "' is missing from " + shape.label() + "; add " + key.key() + " = <" + key.type().description()
                    + (key.choices().isEmpty() ? "" : " " + String.join(" | ", key.choices())) + ": " + key.doc() + ">");
        }
    }

    private void typeError(ConfigKey key, Object value, String example) {
        problem(key, "expected " + expected(key) + ", found " + describe(value) + "; write " + key.key() + " = " + example);
    }

    private static String expected(ConfigKey key) {
        return switch (key.type()) {
            case BOOLEAN -> "a boolean";
            case INTEGER -> "an integer";
            case STRING_LIST -> "an array of strings";
            case TABLE, PROPERTIES -> "a table";
            case TABLE_ARRAY -> "an array of tables ([[" + key.key() + "]])";
            default -> "a string";
        };
    }

    static String describe(Object value) {
        if (value instanceof String s) {
            return "the string \"" + s + "\"";
        }
        if (value instanceof Long || value instanceof Boolean || value instanceof Double) {
            return (value instanceof Long ? "the integer " : value instanceof Double ? "the float " : "the boolean ") + value;
        }
        if (value instanceof TomlArray) {
            return "an array";
        }
        if (value instanceof TomlTable) {
            return "a table";
        }
        return "a " + value.getClass().getSimpleName();
    }

    /** A string value with its secret references resolved; the default when absent. */
    String string(ConfigKey key) {
        return string(key, () -> key.defaultValue() instanceof String s ? s : null);
    }

    String string(ConfigKey key, Supplier<String> fallback) {
        Object v = raw(key);
        if (v == null) {
            missing(key);
            return fallback.get();
        }
        if (!(v instanceof String s)) {
            typeError(key, v, "\"...\"");
            return null;
        }
        return references.resolve(s, pathOf(key.key()), where(key), problems);
    }

    /** A string the file must not leave empty. */
    String nonBlank(ConfigKey key) {
        String s = string(key);
        if (s != null && s.isBlank()) {
            problem(key, key.key() + " must not be empty; give " + key.doc());
            return null;
        }
        return s;
    }

    Secret secret(ConfigKey key) {
        String s = string(key);
        return s == null ? null : new Secret(s);
    }

    Boolean bool(ConfigKey key) {
        Object v = raw(key);
        if (v == null) {
            missing(key);
            return (Boolean) key.defaultValue();
        }
        if (v instanceof String s && fromEnvironment(key)) {
            if (s.equalsIgnoreCase("true") || s.equalsIgnoreCase("false")) {
                return Boolean.parseBoolean(s);
            }
            problem(key, "expected true or false, found \"" + s + "\"; set " + overrides.get(key).variable() + "=true or =false");
            return null;
        }
        if (!(v instanceof Boolean b)) {
            typeError(key, v, "true (or false, without quotes)");
            return null;
        }
        return b;
    }

    Long integer(ConfigKey key) {
        Object v = raw(key);
        if (v == null) {
            missing(key);
            return (Long) key.defaultValue();
        }
        Long n = null;
        if (v instanceof String s && fromEnvironment(key)) {
            try {
                n = Long.parseLong(s.trim());
            } catch (NumberFormatException e) {
                problem(key, "expected an integer, found \"" + s + "\"; set the variable to a whole number");
                return null;
            }
        } else if (v instanceof Long l) {
            n = l;
        } else {
            typeError(key, v, "a whole number without quotes");
            return null;
        }
        if (n < key.min() || n > key.max()) {
            problem(key, key.key() + " = " + n + " is out of range; use " + range(key));
            return null;
        }
        return n;
    }

    private static String range(ConfigKey key) {
        if (key.max() == Long.MAX_VALUE || key.max() == Integer.MAX_VALUE) {
            return "a whole number >= " + key.min();
        }
        return key.min() + ".." + key.max();
    }

    Integer integer32(ConfigKey key) {
        Long n = integer(key);
        return n == null ? null : Math.toIntExact(n);
    }

    Duration duration(ConfigKey key) {
        String s = string(key);
        if (s == null) {
            return null;
        }
        Duration d = Durations.parse(s);
        if (d == null || d.isZero()) {
            problem(key, "bad duration \"" + s + "\"; write a positive whole number and a unit: 250ms, 30s, 2m or 1h");
        }
        return d == null || d.isZero() ? null : d;
    }

    Template template(ConfigKey key) {
        String s = string(key);
        if (s == null) {
            return null;
        }
        try {
            return new Template(s);
        } catch (IllegalArgumentException e) {
            problem(key, e.getMessage());
            return null;
        }
    }

    FieldRule rule(ConfigKey key) {
        String s = string(key);
        if (s == null) {
            return null;
        }
        FieldRule rule = FieldRule.parse(s);
        if (rule == null) {
            problem(key, "bad rule \"" + s + "\"; write header:<name>, field:<dotted.path> or coordinates");
        }
        return rule;
    }

    /** A {@link ValueType#CHOICE} value, spelt as in {@link ConfigKey#choices()} (case does not matter). */
    String choice(ConfigKey key) {
        String s = string(key);
        if (s == null) {
            return null;
        }
        for (String c : key.choices()) {
            if (c.equalsIgnoreCase(s.trim())) {
                return c;
            }
        }
        problem(key, "bad value \"" + s + "\" for " + key.key() + "; use one of " + String.join(", ", key.choices()));
        return null;
    }

    List<String> strings(ConfigKey key) {
        Object v = raw(key);
        if (v == null) {
            missing(key);
            return null;
        }
        if (!(v instanceof TomlArray array)) {
            typeError(key, v, "[\"a\", \"b\"]");
            return null;
        }
        List<String> out = new ArrayList<>();
        for (int i = 0; i < array.size(); i++) {
            Object item = array.get(i);
            String at = ConfigProblem.at(array.inputPositionOf(i));
            if (!(item instanceof String s)) {
                problems.add(pathOf(key.key()) + "[" + (i + 1) + "]", at, "expected a string, found " + describe(item)
                        + "; quote it");
                return null;
            }
            String resolved = references.resolve(s, pathOf(key.key()) + "[" + (i + 1) + "]", at, problems);
            if (resolved == null) {
                return null;
            }
            out.add(resolved);
        }
        if (out.isEmpty() && key.requirement() == Requirement.REQUIRED) {
            problem(key, key.key() + " must not be empty; list at least one");
            return null;
        }
        return out;
    }

    /**
     * A table of client properties, every value a {@link Secret}. A dotted name written without
     * quotes ({@code security.protocol = "SSL"}) is a nested table to TOML; it is flattened back.
     */
    Map<String, Secret> properties(ConfigKey key) {
        Object v = raw(key);
        Map<String, Secret> out = new LinkedHashMap<>();
        if (v == null) {
            return out;
        }
        if (!(v instanceof TomlTable t)) {
            typeError(key, v, "{ \"name\" = \"value\" } or a [" + pathOf(key.key()) + "] table");
            return out;
        }
        for (Map.Entry<List<String>, Object> e : t.entryPathSet(true)) {
            Object value = e.getValue();
            if (value instanceof TomlTable) {
                continue;
            }
            String name = String.join(".", e.getKey());
            String propertyPath = pathOf(key.key()) + "." + Toml.joinKeyPath(e.getKey());
            String at = ConfigProblem.at(t.inputPositionOf(e.getKey()));
            if (value instanceof String || value instanceof Long || value instanceof Boolean || value instanceof Double) {
                String resolved = references.resolve(String.valueOf(value), propertyPath, at, problems);
                if (resolved != null) {
                    out.put(name, new Secret(resolved));
                }
            } else {
                problems.add(propertyPath, at, "expected a string, found " + describe(value) + "; write \"" + name
                        + "\" = \"value\"");
            }
        }
        return out;
    }

    /** A sub-table, or null when absent (a problem when required) or not a table. */
    TomlTable table(ConfigKey key) {
        Object v = raw(key);
        if (v == null) {
            missing(key);
            return null;
        }
        if (!(v instanceof TomlTable t)) {
            typeError(key, v, "{ ... } or a [" + pathOf(key.key()) + "] table");
            return null;
        }
        return t;
    }

    TomlPosition positionOf(ConfigKey key) {
        return table.inputPositionOf(List.of(key.key()));
    }

    /** An array of tables ({@code [[name]]}); empty when absent. */
    TomlArray tableArray(ConfigKey key) {
        Object v = raw(key);
        if (v == null) {
            return null;
        }
        if (!(v instanceof TomlArray a) || (!a.isEmpty() && !(a.get(0) instanceof TomlTable))) {
            typeError(key, v, "a [[" + key.key() + "]] table for each entry");
            return null;
        }
        return a;
    }
}
