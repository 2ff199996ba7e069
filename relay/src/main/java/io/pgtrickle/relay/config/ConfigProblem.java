package io.pgtrickle.relay.config;

import org.tomlj.TomlPosition;

/**
 * One thing wrong with a relay.toml.
 *
 * @param path the key's full path, e.g. {@code pipeline "orders".sink.topic}; null for the whole file
 * @param location {@code line 7:3} of the file, or {@code environment variable PGTRICKLE_RELAY_X}; null if unknown
 * @param message what is wrong and how to fix it
 */
public record ConfigProblem(String path, String location, String message) {

    /** {@code line L:C} of a tomlj position; null for null. */
    public static String at(TomlPosition position) {
        return position == null ? null : "line " + position.line() + ":" + position.column();
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder();
        if (path != null) {
            s.append(path);
        }
        if (location != null) {
            s.append(s.length() == 0 ? "" : " ").append('(').append(location).append(')');
        }
        return s.length() == 0 ? message : s + ": " + message;
    }
}
