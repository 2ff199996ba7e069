package io.pgtrickle.format;

import java.util.Objects;

/**
 * Where a reverse pipeline takes a value of each message from: {@code header:<name>}, a header;
 * {@code field:<a.b.c>}, a field of the JSON payload (dotted path); {@code coordinates}, the
 * message's source coordinates (topic/partition/offset, stream sequence, entry id).
 */
public record FieldRule(Kind kind, String name) {
    public enum Kind {
        HEADER, FIELD, COORDINATES
    }

    public static final FieldRule COORDINATES = new FieldRule(Kind.COORDINATES, null);

    public FieldRule {
        Objects.requireNonNull(kind, "kind");
        if ((kind == Kind.COORDINATES) != (name == null)) {
            throw new IllegalArgumentException("a " + kind + " rule " + (name == null ? "needs" : "takes no") + " name");
        }
    }

    /** Parses {@code header:<name>}, {@code field:<path>} or {@code coordinates}; null for anything else. */
    public static FieldRule parse(String text) {
        if ("coordinates".equals(text)) {
            return COORDINATES;
        }
        if (text != null && text.startsWith("header:") && text.length() > 7) {
            return new FieldRule(Kind.HEADER, text.substring(7));
        }
        if (text != null && text.startsWith("field:") && text.length() > 6) {
            return new FieldRule(Kind.FIELD, text.substring(6));
        }
        return null;
    }

    @Override
    public String toString() {
        return kind == Kind.COORDINATES ? "coordinates" : kind.name().toLowerCase() + ":" + name;
    }
}
