package io.pgtrickle.format;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A topic, subject or stream-key template: text with the placeholders {@code {stream_table}} (the
 * stream table's name as the pipeline's source names it) and {@code {op}} ({@code insert},
 * {@code update} or {@code delete}).
 */
public record Template(String text) {
    public static final List<String> OPS = List.of("insert", "update", "delete");
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{([^{}]*)}");
    private static final Set<String> NAMES = Set.of("stream_table", "op");

    /**
     * Checks the placeholders; the message names the first unknown one and lists the valid ones.
     *
     * @throws IllegalArgumentException for an unknown placeholder, an unbalanced brace or blank text
     */
    public Template {
        if (text == null || text.isBlank()) {
            throw new IllegalArgumentException("a template must not be empty");
        }
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder rest = new StringBuilder();
        while (m.find()) {
            if (!NAMES.contains(m.group(1))) {
                throw new IllegalArgumentException("unknown placeholder {" + m.group(1) + "} in template \"" + text
                        + "\"; the placeholders are {stream_table} and {op}");
            }
            m.appendReplacement(rest, "");
        }
        m.appendTail(rest);
        if (rest.indexOf("{") >= 0 || rest.indexOf("}") >= 0) {
            throw new IllegalArgumentException("unbalanced brace in template \"" + text
                    + "\"; write placeholders as {stream_table} or {op}");
        }
    }

    public boolean usesOp() {
        return text.contains("{op}");
    }

    public String expand(String streamTable, String op) {
        return text.replace("{stream_table}", streamTable).replace("{op}", op);
    }

    /** Every destination the template names for one stream table: one per op when it uses {op}. */
    public List<String> expansions(String streamTable) {
        Set<String> all = new LinkedHashSet<>();
        for (String op : OPS) {
            all.add(expand(streamTable, op));
        }
        return new ArrayList<>(all);
    }

    @Override
    public String toString() {
        return text;
    }
}
