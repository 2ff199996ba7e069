package io.pgtrickle.core.sql;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * A schema-qualified relation name, parsed like PostgreSQL's {@code parse_ident}: unquoted parts
 * fold to lower case, double-quoted parts keep their case. The schema defaults to {@code public}.
 */
public record QualifiedName(String schema, String name) {
    private static final int MAX_IDENTIFIER_BYTES = 63;

    public QualifiedName {
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(name, "name");
    }

    public static QualifiedName parse(String text) {
        if (text == null || text.isBlank()) {
            throw invalid(text, "it is empty");
        }
        List<String> parts = new ArrayList<>();
        String s = text.strip();
        int i = 0;
        while (true) {
            StringBuilder part = new StringBuilder();
            if (i < s.length() && s.charAt(i) == '"') {
                i++;
                while (true) {
                    if (i >= s.length()) {
                        throw invalid(text, "a quoted part is not closed");
                    }
                    char c = s.charAt(i++);
                    if (c == '"') {
                        if (i < s.length() && s.charAt(i) == '"') {
                            part.append('"');
                            i++;
                        } else {
                            break;
                        }
                    } else {
                        part.append(c);
                    }
                }
                if (part.length() == 0) {
                    throw invalid(text, "a quoted part is empty");
                }
            } else {
                int start = i;
                while (i < s.length() && s.charAt(i) != '.') {
                    char c = s.charAt(i);
                    boolean ok = Character.isLetter(c) || c == '_' || (i > start && (Character.isDigit(c) || c == '$'));
                    if (!ok) {
                        throw invalid(text, "'" + c + "' is not allowed in an unquoted name (quote it with \"…\")");
                    }
                    i++;
                }
                if (i == start) {
                    throw invalid(text, "a part is empty");
                }
                part.append(s.substring(start, i).toLowerCase(Locale.ROOT));
            }
            if (part.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_IDENTIFIER_BYTES) {
                throw invalid(text, "a part is longer than 63 bytes");
            }
            parts.add(part.toString());
            if (i >= s.length()) {
                break;
            }
            if (s.charAt(i) != '.') {
                throw invalid(text, "unexpected text after a quoted part");
            }
            i++;
        }
        return switch (parts.size()) {
            case 1 -> new QualifiedName("public", parts.get(0));
            case 2 -> new QualifiedName(parts.get(0), parts.get(1));
            default -> throw invalid(text, "use name or schema.name");
        };
    }

    private static PgTrickleException invalid(String text, String why) {
        return new PgTrickleException(ErrorCode.INVALID_NAME, "invalid stream table name \"" + text + "\": " + why);
    }

    /** {@code "schema"."name"}, ready for SQL. */
    public String quoted() {
        return Identifiers.quote(schema) + "." + Identifiers.quote(name);
    }

    /** The form PostgreSQL's quote_ident produces: quotes only where needed. */
    public String canonical() {
        return Identifiers.quoteIfNeeded(schema) + "." + Identifiers.quoteIfNeeded(name);
    }

    @Override
    public String toString() {
        return canonical();
    }
}
