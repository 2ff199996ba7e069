package io.pgtrickle.core.sql;

import java.util.Set;

/** Quoting of SQL identifiers. Every identifier the engine puts into SQL goes through here. */
public final class Identifiers {
    // Reserved words that quote_ident quotes; enough to keep canonical() equal to quote_ident().
    private static final Set<String> RESERVED = Set.of(
            "all", "analyse", "analyze", "and", "any", "array", "as", "asc", "asymmetric", "both", "case", "cast",
            "check", "collate", "column", "constraint", "create", "current_catalog", "current_date", "current_role",
            "current_time", "current_timestamp", "current_user", "default", "deferrable", "desc", "distinct", "do",
            "else", "end", "except", "false", "fetch", "for", "foreign", "from", "grant", "group", "having", "in",
            "initially", "intersect", "into", "lateral", "leading", "limit", "localtime", "localtimestamp", "not",
            "null", "offset", "on", "only", "or", "order", "placing", "primary", "references", "returning", "select",
            "session_user", "some", "symmetric", "system_user", "table", "then", "to", "trailing", "true", "union",
            "unique", "user", "using", "variadic", "when", "where", "window", "with", "authorization", "binary",
            "collation", "concurrently", "cross", "current_schema", "freeze", "full", "ilike", "inner", "is",
            "isnull", "join", "left", "like", "natural", "notnull", "outer", "overlaps", "right", "similar",
            "tablesample", "verbose");

    private Identifiers() {
    }

    /** Always quotes: {@code a"b} becomes {@code "a""b"}. */
    public static String quote(String identifier) {
        if (identifier.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("identifier contains a NUL character");
        }
        return '"' + identifier.replace("\"", "\"\"") + '"';
    }

    /**
     * A string literal, like {@code quote_literal}: an {@code E''} literal when {@code text} has a
     * backslash, so that it reads the same whatever {@code standard_conforming_strings} says.
     */
    public static String literal(String text) {
        if (text.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("text contains a NUL character");
        }
        String quoted = '\'' + text.replace("'", "''") + '\'';
        return text.indexOf('\\') < 0 ? quoted : "E" + quoted.replace("\\", "\\\\");
    }

    /** Quotes only when PostgreSQL would need it, like {@code quote_ident}. */
    public static String quoteIfNeeded(String identifier) {
        boolean plain = !identifier.isEmpty() && !RESERVED.contains(identifier);
        for (int i = 0; plain && i < identifier.length(); i++) {
            char c = identifier.charAt(i);
            plain = (c >= 'a' && c <= 'z') || c == '_' || (i > 0 && ((c >= '0' && c <= '9') || c == '$'));
        }
        return plain ? identifier : quote(identifier);
    }
}
