package io.pgtrickle.relay.config;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.Set;
import org.apache.commons.text.similarity.LevenshteinDistance;

/** The fix for a key a table does not take: the nearest valid name, or where the key belongs. */
final class KeyHints {
    private KeyHints() {
    }

    /** The candidate closest to {@code name} by edit distance, if close enough to be a misspelling; else null. */
    static String nearest(String name, Collection<String> candidates) {
        int limit = Math.max(2, name.length() / 3);
        LevenshteinDistance distance = new LevenshteinDistance(limit);
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String c : candidates) {
            int d = distance.apply(name.toLowerCase(), c.toLowerCase());
            if (d >= 0 && d < bestDistance) {
                best = c;
                bestDistance = d;
            }
        }
        return best;
    }

    /** The labels of the other sections that declare a key named {@code name}. */
    static Set<String> elsewhere(String name, TableShape here) {
        Set<String> labels = new LinkedHashSet<>();
        for (ConfigKey k : ConfigKey.values()) {
            if (k.key().equals(name) && !here.sections().contains(k.section())) {
                labels.add(k.section().label());
            }
        }
        return labels;
    }

    /** The message for {@code name} found in a table of shape {@code here}. */
    static String unknownKey(String name, TableShape here) {
        Set<String> belongs = elsewhere(name, here);
        if (!belongs.isEmpty()) {
            return "key '" + name + "' does not belong in " + here.label() + "; it belongs in "
                    + String.join(" or ", belongs) + ". Move or remove it";
        }
        Set<String> names = new LinkedHashSet<>();
        here.keys().forEach(k -> names.add(k.key()));
        String near = nearest(name, names);
        String fix = near != null ? "did you mean '" + near + "'?" : "the keys of " + here.label() + " are " + String.join(", ", names);
        return "unknown key '" + name + "' in " + here.label() + "; " + fix;
    }
}
