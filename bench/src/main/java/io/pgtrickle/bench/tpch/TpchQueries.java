package io.pgtrickle.bench.tpch;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The 22 TPC-H queries, read from the texts the {@code io.trino.tpch} generator ships
 * ({@code io/trino/tpch/queries/qN.sql}) and adapted for a stream table. The adaptations are made
 * here, in code, and listed per query, so the report can say exactly what ran:
 * <ul>
 * <li>a top-level {@code ORDER BY} (and {@code LIMIT}) is dropped: a stream table is an unordered
 *     set of rows, and the full result is what is maintained;</li>
 * <li>q15's view {@code revenue} becomes a CTE, since a defining query is one statement;</li>
 * <li>an output column without a name gets one (q18's {@code sum(l_quantity)}).</li>
 * </ul>
 * Nothing else changes: PostgreSQL reads the rest of the standard text as it is.
 */
public final class TpchQueries {
    public static final int COUNT = 22;
    private static final String RESOURCE = "/io/trino/tpch/queries/q%d.sql";
    private static final Pattern VIEW = Pattern.compile(
            "(?is)^\\s*CREATE\\s+OR\\s+REPLACE\\s+VIEW\\s+(\\w+)\\s+AS\\s+(.*?);\\s*(SELECT\\b.*)$");

    private TpchQueries() {
    }

    /** All 22, in order. */
    public static List<TpchQuery> all() {
        List<TpchQuery> queries = new ArrayList<>();
        for (int i = 1; i <= COUNT; i++) {
            queries.add(query(i));
        }
        return queries;
    }

    /** Query {@code number} (1 to 22), adapted. */
    public static TpchQuery query(int number) {
        if (number < 1 || number > COUNT) {
            throw new IllegalArgumentException("TPC-H queries are numbered 1 to 22, got " + number);
        }
        return adapt(number, standardText(number));
    }

    /** The text as the generator ships it. */
    static String standardText(int number) {
        String name = String.format(Locale.ROOT, RESOURCE, number);
        try (InputStream in = TpchQueries.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("the TPC-H generator jar has no " + name);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static TpchQuery adapt(int number, String text) {
        List<String> adaptations = new ArrayList<>();
        String sql = withoutCommentLines(text).strip();
        Matcher view = VIEW.matcher(sql);
        if (view.matches()) {
            sql = "WITH " + view.group(1) + " AS (\n" + view.group(2).strip() + "\n)\n" + view.group(3);
            adaptations.add("view " + view.group(1) + " as a CTE");
        }
        sql = stripSemicolon(sql);
        int orderBy = topLevelOrderBy(sql);
        if (orderBy >= 0) {
            String tail = sql.substring(orderBy).replaceAll("\\s+", " ").strip();
            sql = sql.substring(0, orderBy).stripTrailing();
            adaptations.add("without " + (tail.toUpperCase(Locale.ROOT).contains(" LIMIT ")
                    ? "ORDER BY … LIMIT " + tail.replaceAll("(?i).*\\bLIMIT\\s+", "") : "ORDER BY"));
        }
        if (number == 18) {
            String named = sql.replaceFirst("(?i)sum\\(l_quantity\\)(\\s*)\\bFROM\\b",
                    "sum(l_quantity) AS sum_quantity$1FROM");
            if (named.equals(sql)) {
                throw new IllegalStateException("q18 no longer has an unnamed sum(l_quantity) column to name");
            }
            sql = named;
            adaptations.add("names sum(l_quantity) sum_quantity");
        }
        return new TpchQuery(number, sql, adaptations);
    }

    /**
     * Parses a query list such as {@code all}, {@code 1,3,6}, {@code 1-5,14} or {@code q1,q6}.
     *
     * @throws IllegalArgumentException with a readable message
     */
    public static List<Integer> parseSelection(String text) {
        String s = text == null ? "" : text.strip().toLowerCase(Locale.ROOT);
        TreeSet<Integer> numbers = new TreeSet<>();
        if (s.equals("all")) {
            for (int i = 1; i <= COUNT; i++) {
                numbers.add(i);
            }
            return List.copyOf(numbers);
        }
        for (String part : s.split(",")) {
            String p = part.strip();
            Matcher m = Pattern.compile("q?(\\d{1,2})(?:-q?(\\d{1,2}))?").matcher(p);
            if (!m.matches()) {
                throw new IllegalArgumentException("invalid query list \"" + text + "\": use all, or numbers 1 to 22"
                        + " such as 1,3,6 or 1-5,14");
            }
            int from = Integer.parseInt(m.group(1));
            int to = m.group(2) == null ? from : Integer.parseInt(m.group(2));
            if (from < 1 || to > COUNT || from > to) {
                throw new IllegalArgumentException("invalid query list \"" + text + "\": TPC-H queries are 1 to 22");
            }
            for (int i = from; i <= to; i++) {
                numbers.add(i);
            }
        }
        return List.copyOf(numbers);
    }

    private static String withoutCommentLines(String text) {
        StringBuilder out = new StringBuilder();
        for (String line : text.split("\n", -1)) {
            if (!line.strip().startsWith("--")) {
                out.append(line).append('\n');
            }
        }
        return out.toString();
    }

    private static String stripSemicolon(String sql) {
        String s = sql.strip();
        return s.endsWith(";") ? s.substring(0, s.length() - 1).stripTrailing() : s;
    }

    /** Where the outermost query's ORDER BY starts, outside parentheses and literals; -1 when none. */
    static int topLevelOrderBy(String sql) {
        int depth = 0;
        int found = -1;
        boolean quoted = false;
        for (int i = 0; i < sql.length(); i++) {
            char ch = sql.charAt(i);
            if (quoted) {
                quoted = ch != '\'';
            } else if (ch == '\'') {
                quoted = true;
            } else if (ch == '(') {
                depth++;
            } else if (ch == ')') {
                depth--;
            } else if (depth == 0 && sql.regionMatches(true, i, "ORDER", 0, 5)
                    && (i == 0 || !Character.isLetterOrDigit(sql.charAt(i - 1)))
                    && sql.substring(i).matches("(?is)ORDER\\s+BY\\b.*")) {
                found = i;
            }
        }
        return found;
    }
}
