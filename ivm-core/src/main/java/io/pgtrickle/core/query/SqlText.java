package io.pgtrickle.core.query;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;

/**
 * Lexical checks on a defining query's text before any of it reaches a JDBC statement. pgjdbc
 * splits statements at top-level semicolons, so text with a second statement must never be
 * concatenated into SQL; this lexer knows PostgreSQL's quoting (single, E'', double, dollar) and
 * comments (line, nested block) well enough to find such semicolons.
 */
public final class SqlText {
    private SqlText() {
    }

    /**
     * The query with surrounding whitespace and trailing semicolons removed.
     *
     * @throws PgTrickleException if the text is empty, holds more than one statement, or has an
     *     unterminated quote or comment
     */
    public static String requireSingleStatement(String text) {
        if (text == null || text.isBlank()) {
            throw new PgTrickleException(ErrorCode.INVALID_QUERY, "the defining query must not be empty");
        }
        String s = text.strip();
        int end = s.length();
        int i = 0;
        int lastCode = -1;
        while (i < end) {
            char c = s.charAt(i);
            if (c == '\'' ) {
                boolean escapes = i > 0 && (s.charAt(i - 1) == 'E' || s.charAt(i - 1) == 'e')
                        && (i < 2 || !Character.isLetterOrDigit(s.charAt(i - 2)) && s.charAt(i - 2) != '_');
                i = skipQuoted(s, i, '\'', escapes);
                lastCode = i - 1;
            } else if (c == '"') {
                i = skipQuoted(s, i, '"', false);
                lastCode = i - 1;
            } else if (c == '-' && i + 1 < end && s.charAt(i + 1) == '-') {
                int nl = s.indexOf('\n', i);
                i = nl < 0 ? end : nl + 1;
            } else if (c == '/' && i + 1 < end && s.charAt(i + 1) == '*') {
                i = skipBlockComment(s, i);
            } else if (c == '$' && dollarTagAt(s, i) != null && !identifierCharBefore(s, i)) {
                String tag = dollarTagAt(s, i);
                int close = s.indexOf(tag, i + tag.length());
                if (close < 0) {
                    throw unterminated("dollar-quoted string " + tag);
                }
                i = close + tag.length();
                lastCode = i - 1;
            } else if (c == ';') {
                int rest = i + 1;
                while (rest < end && (Character.isWhitespace(s.charAt(rest)) || s.charAt(rest) == ';')) {
                    rest++;
                }
                if (rest < end) {
                    throw new PgTrickleException(ErrorCode.INVALID_QUERY,
                            "the defining query must be a single SELECT statement, but a ';' at offset " + i
                                    + " ends it before more text");
                }
                return nonEmpty(s.substring(0, lastCode + 1).strip());
            } else {
                if (!Character.isWhitespace(c)) {
                    lastCode = i;
                }
                i++;
            }
        }
        nonEmpty(s.substring(0, lastCode + 1).strip());
        return s;
    }

    private static String nonEmpty(String code) {
        if (code.isEmpty()) {
            throw new PgTrickleException(ErrorCode.INVALID_QUERY, "the defining query must not be empty");
        }
        return code;
    }

    private static int skipQuoted(String s, int start, char quote, boolean backslashEscapes) {
        int i = start + 1;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (backslashEscapes && c == '\\') {
                i += 2;
            } else if (c == quote) {
                if (i + 1 < s.length() && s.charAt(i + 1) == quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        throw unterminated(quote == '"' ? "quoted identifier" : "string literal");
    }

    private static int skipBlockComment(String s, int start) {
        int end = endOfBlockComment(s, start);
        if (end < 0) {
            throw unterminated("block comment");
        }
        return end;
    }

    /** The index just past the (nestable) block comment starting at {@code start}, or -1 if it never ends. */
    static int endOfBlockComment(String s, int start) {
        int depth = 0;
        int i = start;
        while (i < s.length()) {
            if (s.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (s.startsWith("*/", i)) {
                depth--;
                i += 2;
                if (depth == 0) {
                    return i;
                }
            } else {
                i++;
            }
        }
        return -1;
    }

    private static boolean identifierCharBefore(String s, int i) {
        if (i == 0) {
            return false;
        }
        char p = s.charAt(i - 1);
        return Character.isLetterOrDigit(p) || p == '_' || p == '$';
    }

    /** The dollar-quote tag ({@code $$} or {@code $tag$}) starting at {@code i}, or null. */
    private static String dollarTagAt(String s, int i) {
        int j = i + 1;
        while (j < s.length() && (Character.isLetterOrDigit(s.charAt(j)) || s.charAt(j) == '_')) {
            if (j == i + 1 && Character.isDigit(s.charAt(j))) {
                return null; // $1 is a parameter, not a tag
            }
            j++;
        }
        return j < s.length() && s.charAt(j) == '$' ? s.substring(i, j + 1) : null;
    }

    private static PgTrickleException unterminated(String what) {
        return new PgTrickleException(ErrorCode.INVALID_QUERY, "the defining query has an unterminated " + what);
    }
}
