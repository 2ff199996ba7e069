package io.pgtrickle.core.query;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParserPos;

/**
 * Rewrites the PostgreSQL syntax that Calcite's Babel parser lacks, or reads differently, into
 * syntax it parses as PostgreSQL means it; {@link QueryParser} turns the placeholders into real
 * nodes after parsing and {@link PostgresDialect} prints them as PostgreSQL again.
 *
 * <p>The rewrite works on tokens grouped by parentheses and brackets. Within each group it finds
 * operands (identifiers, literals, function calls, parenthesised groups, {@code CASE … END},
 * {@code ARRAY[…]}, with {@code ::type}, subscripts and {@code AT TIME ZONE} after them) and the runs
 * of operators between them that PostgreSQL ranks at or above its "any other operator" level
 * ({@code ^}, {@code * / %}, {@code + -}, then everything else such as {@code ->>}, {@code @>},
 * {@code ||}, {@code ~}). Such a run is re-emitted fully parenthesised by PostgreSQL's precedence when
 * it holds an operator Calcite cannot parse (as {@code "__pgt_syn_op:->>"(a, b)}), or when Calcite
 * would group it differently ({@code ||}, the regex operators and {@code ^} rank differently in
 * Calcite). Every {@code x::type} becomes {@code CAST(x AS "__pgt_syn_type:type")}, because Babel
 * applies {@code ::} to more than the operand before it; typed literals become such casts too.
 * Everything else is passed through as written.
 */
final class PostgresRewriter {
    /** Function name prefix of a binary operator application: {@code "__pgt_syn_op:->>"(a, b)}. */
    static final String OP_PREFIX = "__pgt_syn_op:";
    /** Type name prefix of a cast target kept verbatim: {@code CAST(x AS "__pgt_syn_type:text[]")}. */
    static final String TYPE_PREFIX = "__pgt_syn_type:";
    /** Like {@link #TYPE_PREFIX}, for a typed literal {@code interval '5 minutes'}. */
    static final String LITERAL_PREFIX = "__pgt_syn_literal:";
    /** First select item standing for {@code DISTINCT ON (…)}. */
    static final String DISTINCT_ON = "__pgt_syn_distinct_on";
    /**
     * Column alias name prefix of one entry of a column definition list, followed by the column's
     * name as a quoted identifier and its type as written: {@code __pgt_syn_coldef:"qty" int}.
     */
    static final String COLUMN_DEFINITION = "__pgt_syn_coldef:";
    private static final String RESERVED = "__pgt_syn";

    /** Words that never start an operand (keywords of the surrounding clause). */
    private static final Set<String> NOT_OPERAND = Set.of("select", "from", "where", "and", "or", "not", "as",
            "on", "join", "inner", "outer", "full", "cross", "natural", "using", "lateral", "when", "then", "else",
            "end", "is", "in", "like", "ilike", "similar", "to", "escape", "between", "symmetric", "asymmetric",
            "distinct", "all", "any", "some", "union", "intersect", "except", "group", "by", "order", "having",
            "limit", "offset", "fetch", "only", "with", "recursive", "asc", "desc", "nulls", "filter", "over",
            "partition", "window", "preceding", "following", "unbounded", "at", "collate", "values", "isnull",
            "notnull", "default", "into", "for", "of", "tablesample", "repeatable", "within", "overlaps",
            "returning", "leading", "trailing", "both", "placing", "exists", "variadic", "unique", "check",
            "table", "exclude", "ties", "others", "ordinality");
    /** Type names that may open a typed literal such as {@code timestamptz '…'}. */
    private static final Set<String> LITERAL_TYPES = Set.of("bigint", "bit", "bool", "boolean", "box", "bpchar",
            "bytea", "char", "character", "cidr", "circle", "date", "daterange", "decimal", "double", "float",
            "float4", "float8", "inet", "int", "int2", "int4", "int8", "int4range", "int8range", "integer",
            "interval", "json", "jsonb", "jsonpath", "line", "lseg", "macaddr", "macaddr8", "money", "name",
            "numeric", "numrange", "oid", "path", "pg_lsn", "point", "polygon", "real", "regclass", "regtype",
            "smallint", "text", "time", "timestamp", "timestamptz", "timetz", "tsquery", "tsrange", "tstzrange",
            "tsvector", "uuid", "varbit", "varchar", "xml");
    private static final Set<String> INTERVAL_FIELDS = Set.of("year", "month", "day", "hour", "minute", "second");
    private static final Set<String> COMPARISON = Set.of("=", "<>", "!=", "<", ">", "<=", ">=");
    /** Operators at PostgreSQL's "other" level that Calcite parses itself. */
    private static final Set<String> NATIVE_OTHER = Set.of("||", "~", "~*", "!~", "!~*");
    private static final String OP_CHARS = "+-*/<>=~!@#%^&|`?";

    private enum Kind { WORD, QUOTED, STRING, NUMBER, PARAM, OP, OPEN, CLOSE, COMMA, DOT, DOUBLE_COLON, OTHER }

    private sealed interface Elem permits Tok, Group {
        String lead();
    }

    /** A token; {@code lead} is the whitespace before it (comments become a space). */
    private record Tok(Kind kind, String text, int offset, String lead) implements Elem {
        String lower() {
            return text.toLowerCase(Locale.ROOT);
        }

        boolean isWord(String word) {
            return kind == Kind.WORD && text.equalsIgnoreCase(word);
        }
    }

    private record Group(Tok open, List<Elem> items, Tok close) implements Elem {
        @Override
        public String lead() {
            return open.lead();
        }

        boolean paren() {
            return open.text().equals("(");
        }
    }

    /** One operand, an operator token or any other element, ready to print. */
    private record Unit(String lead, String text, Tok op, boolean operand, boolean atTimeZone) {
        static Unit operand(String lead, String text, boolean atTimeZone) {
            return new Unit(lead, text, null, true, atTimeZone);
        }

        static Unit op(Tok t) {
            return new Unit(t.lead(), t.text(), t, false, false);
        }

        static Unit other(String lead, String text) {
            return new Unit(lead, text, null, false, false);
        }
    }

    private record Parsed(String text, int next, boolean atTimeZone) {
    }

    private final String source;

    private PostgresRewriter(String source) {
        this.source = source;
    }

    /** {@code sql} with the syntax Babel lacks replaced by placeholders it parses. */
    static String rewrite(String sql) throws SqlParseException {
        PostgresRewriter r = new PostgresRewriter(sql);
        List<Tok> tokens = r.lex();
        Tok end = tokens.remove(tokens.size() - 1);
        List<Elem> top = r.group(tokens);
        return r.sequence(top) + end.lead();
    }

    // ---------------------------------------------------------------- lexer

    private List<Tok> lex() throws SqlParseException {
        List<Tok> out = new ArrayList<>();
        StringBuilder lead = new StringBuilder();
        String s = source;
        int n = s.length();
        int i = 0;
        while (i < n) {
            char c = s.charAt(i);
            char c1 = i + 1 < n ? s.charAt(i + 1) : '\0';
            if (Character.isWhitespace(c)) {
                lead.append(c);
                i++;
                continue;
            }
            if (c == '-' && c1 == '-') {
                int nl = s.indexOf('\n', i);
                i = nl < 0 ? n : nl;
                lead.append(' ');
                continue;
            }
            if (c == '/' && c1 == '*') {
                i = endOfBlockComment(i);
                lead.append(' ');
                continue;
            }
            int start = i;
            Kind kind;
            String text;
            if (c == '\'') {
                i = endOfString(i, false);
                kind = Kind.STRING;
                text = s.substring(start, i);
            } else if ((c == 'E' || c == 'e') && c1 == '\'') {
                i = endOfString(i + 1, true);
                kind = Kind.STRING;
                text = s.substring(start, i);
            } else if ("BbXxNn".indexOf(c) >= 0 && c1 == '\'') {
                i = endOfString(i + 1, false);
                kind = Kind.STRING;
                text = s.substring(start, i);
            } else if ((c == 'U' || c == 'u') && c1 == '&' && i + 2 < n && s.charAt(i + 2) == '\'') {
                i = endOfString(i + 2, false);
                kind = Kind.STRING;
                text = s.substring(start, i);
            } else if (c == '"') {
                i = endOfQuoted(i);
                kind = Kind.QUOTED;
                text = s.substring(start, i);
                if (text.toLowerCase(Locale.ROOT).startsWith("\"" + RESERVED)) {
                    throw error(start, "identifiers starting with " + RESERVED + " are reserved");
                }
            } else if (c == '$' && Character.isDigit(c1)) {
                i++;
                while (i < n && Character.isDigit(s.charAt(i))) {
                    i++;
                }
                kind = Kind.PARAM;
                text = s.substring(start, i);
            } else if (c == '$' && dollarTag(i) != null) {
                String tag = dollarTag(i);
                int close = s.indexOf(tag, i + tag.length());
                if (close < 0) {
                    throw error(start, "unterminated dollar-quoted string");
                }
                // Babel reads $$…$$ as an identifier; a standard literal means the same text.
                String body = s.substring(i + tag.length(), close);
                i = close + tag.length();
                kind = Kind.STRING;
                text = "'" + body.replace("'", "''") + "'";
            } else if (Character.isLetter(c) || c == '_') {
                while (i < n && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == '$')) {
                    i++;
                }
                kind = Kind.WORD;
                text = s.substring(start, i);
                if (text.toLowerCase(Locale.ROOT).startsWith(RESERVED)) {
                    throw error(start, "identifiers starting with " + RESERVED + " are reserved");
                }
            } else if (Character.isDigit(c) || c == '.' && Character.isDigit(c1)) {
                i = endOfNumber(i);
                kind = Kind.NUMBER;
                text = s.substring(start, i);
            } else if (c == ':' && c1 == ':') {
                i += 2;
                kind = Kind.DOUBLE_COLON;
                text = "::";
            } else if (c == '(' || c == '[') {
                i++;
                kind = Kind.OPEN;
                text = String.valueOf(c);
            } else if (c == ')' || c == ']') {
                i++;
                kind = Kind.CLOSE;
                text = String.valueOf(c);
            } else if (c == ',') {
                i++;
                kind = Kind.COMMA;
                text = ",";
            } else if (c == '.') {
                i++;
                kind = Kind.DOT;
                text = ".";
            } else if (OP_CHARS.indexOf(c) >= 0) {
                i = endOfOperator(i);
                kind = Kind.OP;
                text = s.substring(start, i);
            } else {
                i++;
                kind = Kind.OTHER;
                text = String.valueOf(c);
            }
            out.add(new Tok(kind, text, start, lead.toString()));
            lead.setLength(0);
        }
        out.add(new Tok(Kind.OTHER, "", n, lead.toString())); // carries the trailing whitespace
        return out;
    }

    private int endOfString(int quote, boolean backslashEscapes) throws SqlParseException {
        String s = source;
        int i = quote + 1;
        while (i < s.length()) {
            char c = s.charAt(i);
            if (backslashEscapes && c == '\\') {
                i += 2;
            } else if (c == '\'') {
                if (i + 1 < s.length() && s.charAt(i + 1) == '\'') {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        throw error(quote, "unterminated string literal");
    }

    private int endOfQuoted(int quote) throws SqlParseException {
        int i = quote + 1;
        while (i < source.length()) {
            if (source.charAt(i) == '"') {
                if (i + 1 < source.length() && source.charAt(i + 1) == '"') {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        throw error(quote, "unterminated quoted identifier");
    }

    private int endOfBlockComment(int start) throws SqlParseException {
        int end = SqlText.endOfBlockComment(source, start);
        if (end < 0) {
            throw error(start, "unterminated block comment");
        }
        return end;
    }

    private String dollarTag(int i) {
        if (i > 0) {
            char p = source.charAt(i - 1);
            if (Character.isLetterOrDigit(p) || p == '_' || p == '$') {
                return null;
            }
        }
        int j = i + 1;
        while (j < source.length() && (Character.isLetterOrDigit(source.charAt(j)) || source.charAt(j) == '_')) {
            j++;
        }
        return j < source.length() && source.charAt(j) == '$' ? source.substring(i, j + 1) : null;
    }

    private int endOfNumber(int i) {
        String s = source;
        int n = s.length();
        while (i < n && Character.isDigit(s.charAt(i))) {
            i++;
        }
        if (i < n && s.charAt(i) == '.' && !(i + 1 < n && s.charAt(i + 1) == '.')) {
            i++;
            while (i < n && Character.isDigit(s.charAt(i))) {
                i++;
            }
        }
        if (i < n && (s.charAt(i) == 'e' || s.charAt(i) == 'E')) {
            int j = i + 1;
            if (j < n && (s.charAt(j) == '+' || s.charAt(j) == '-')) {
                j++;
            }
            if (j < n && Character.isDigit(s.charAt(j))) {
                i = j;
                while (i < n && Character.isDigit(s.charAt(i))) {
                    i++;
                }
            }
        }
        return i;
    }

    /** PostgreSQL's operator lexing: longest run, cut before comments, trailing + - dropped. */
    private int endOfOperator(int start) {
        String s = source;
        int i = start;
        while (i < s.length() && OP_CHARS.indexOf(s.charAt(i)) >= 0) {
            if (i > start && (s.startsWith("--", i) || s.startsWith("/*", i))) {
                break;
            }
            i++;
        }
        int len = i - start;
        char last = s.charAt(start + len - 1);
        if (len > 1 && (last == '+' || last == '-')) {
            boolean special = false;
            for (int k = start; k < start + len - 1; k++) {
                if ("~!@#^&|`?%".indexOf(s.charAt(k)) >= 0) {
                    special = true;
                    break;
                }
            }
            if (!special) {
                do {
                    len--;
                } while (len > 1 && (s.charAt(start + len - 1) == '+' || s.charAt(start + len - 1) == '-'));
            }
        }
        return start + len;
    }

    private List<Elem> group(List<Tok> tokens) throws SqlParseException {
        Deque<List<Elem>> stack = new ArrayDeque<>();
        Deque<Tok> opens = new ArrayDeque<>();
        List<Elem> current = new ArrayList<>();
        for (Tok t : tokens) {
            if (t.kind() == Kind.OPEN) {
                stack.push(current);
                opens.push(t);
                current = new ArrayList<>();
            } else if (t.kind() == Kind.CLOSE) {
                if (opens.isEmpty()) {
                    throw error(t.offset(), "unbalanced '" + t.text() + "'");
                }
                Tok open = opens.pop();
                if (open.text().equals("(") != t.text().equals(")")) {
                    throw error(t.offset(), "'" + open.text() + "' closed by '" + t.text() + "'");
                }
                Group g = new Group(open, current, t);
                current = stack.pop();
                current.add(g);
            } else {
                current.add(t);
            }
        }
        if (!opens.isEmpty()) {
            throw error(opens.peek().offset(), "unclosed '" + opens.peek().text() + "'");
        }
        return current;
    }

    // ---------------------------------------------------------------- rewrite

    /** Rewrites one level of elements (the contents of a group, or the whole query). */
    private String sequence(List<Elem> es) throws SqlParseException {
        List<Unit> units = new ArrayList<>();
        int i = 0;
        boolean inFrom = false;
        while (i < es.size()) {
            Elem e = es.get(i);
            Tok t = e instanceof Tok tok ? tok : null;
            if (t != null && t.kind() == Kind.WORD && CLAUSES.contains(t.lower())) {
                inFrom = t.isWord("from");
            }
            if (inFrom && t != null && t.kind() == Kind.WORD && !NOT_OPERAND.contains(t.lower()) && parenAt(es, i + 1)
                    && fromItemStart(es, i - 1)) {
                // Babel takes no function call as the first token of a FROM function's argument: parenthesise each.
                Group args = (Group) es.get(i + 1);
                units.add(Unit.other(t.lead(), t.text() + "(" + parenthesisedArguments(args) + args.close().lead() + ")"));
                i += 2;
                Parsed definitions = columnDefinitionAlias(es, i, t.text());
                if (definitions != null) {
                    units.add(Unit.other(es.get(i).lead(), definitions.text()));
                    i = definitions.next();
                }
                continue;
            }
            if (t != null && t.isWord("distinct") && word(es, i - 1, "select") && word(es, i + 1, "on")
                    && parenAt(es, i + 2)) {
                Group on = (Group) es.get(i + 2);
                units.add(Unit.other(t.lead(), "\"" + DISTINCT_ON + "\"(" + sequence(on.items()) + "),"));
                i += 3;
                continue;
            }
            // Outside FETCH … ROW[S] ONLY, ONLY is FROM ONLY, which Babel would read as a table named "only".
            if (t != null && t.isWord("only") && !word(es, i - 1, "rows") && !word(es, i - 1, "row")) {
                throw error(t.offset(), "FROM ONLY is not supported by the IVM compiler's parser");
            }
            // LATERAL before a function call is a noise word to PostgreSQL (a function in FROM may reference
            // earlier items anyway); Babel takes LATERAL only before TABLE(…), UNNEST or a subquery.
            if (t != null && t.isWord("lateral") && i + 1 < es.size() && es.get(i + 1) instanceof Tok next
                    && next.kind() == Kind.WORD && !next.isWord("table")) {
                units.add(Unit.other(t.lead(), ""));
                i++;
                continue;
            }
            if (t != null && (t.isWord("isnull") || t.isWord("notnull"))) {
                units.add(Unit.other(t.lead(), t.isWord("isnull") ? "IS NULL" : "IS NOT NULL"));
                i++;
                continue;
            }
            if (t != null && t.kind() == Kind.DOUBLE_COLON) {
                throw error(t.offset(), "'::' follows something the parser does not take as an operand;"
                        + " parenthesise it or write CAST(… AS …)");
            }
            boolean parameter = t != null && t.text().equals("?")
                    && (units.isEmpty() || !units.get(units.size() - 1).operand());
            if (t != null && t.kind() == Kind.OP && !parameter) {
                units.add(Unit.op(t));
                i++;
                continue;
            }
            Parsed operand = operand(es, i);
            if (operand != null) {
                units.add(Unit.operand(e.lead(), operand.text(), operand.atTimeZone()));
                // A quoted function name in FROM (as the compiler writes one) may have a column definition list too.
                boolean quotedCall = inFrom && t != null && t.kind() == Kind.QUOTED && operand.next() == i + 2
                        && parenAt(es, i + 1) && fromItemStart(es, i - 1);
                i = operand.next();
                Parsed definitions = quotedCall ? columnDefinitionAlias(es, i, t.text()) : null;
                if (definitions != null) {
                    units.add(Unit.other(es.get(i).lead(), definitions.text()));
                    i = definitions.next();
                }
                continue;
            }
            units.add(Unit.other(e.lead(), e instanceof Group g ? groupText(g) : t.text()));
            i++;
        }
        return runs(units);
    }

    /** Finds runs {@code operand (op operand)*} and re-emits those that need PostgreSQL's grouping. */
    private String runs(List<Unit> units) throws SqlParseException {
        StringBuilder out = new StringBuilder();
        int k = 0;
        while (k < units.size()) {
            int end = runEnd(units, k);
            if (end < 0) {
                Unit u = units.get(k);
                if (u.op() != null && isCustom(u.op().text())) {
                    throw error(u.op().offset(), "operator " + u.op().text()
                            + " needs a left operand the parser understands; parenthesise it");
                }
                out.append(u.lead()).append(u.text());
                k++;
                continue;
            }
            List<Unit> run = units.subList(k, end);
            if (needsRewrite(run)) {
                out.append(run.get(0).lead()).append(new Climber(run).expression(0));
            } else {
                for (Unit u : run) {
                    out.append(u.lead()).append(u.text());
                }
            }
            k = end;
        }
        return out.toString();
    }

    /** End (exclusive) of the run starting at {@code k}, or -1 when no operand starts there. */
    private int runEnd(List<Unit> units, int k) throws SqlParseException {
        int p = operandEnd(units, k);
        if (p < 0) {
            return -1;
        }
        while (p < units.size() && units.get(p).op() != null && isBinary(units.get(p).op().text())) {
            int next = operandEnd(units, p + 1);
            if (next < 0) {
                Tok op = units.get(p).op();
                if (isCustom(op.text())) {
                    throw error(op.offset(), "operator " + op.text()
                            + " needs a right operand the parser understands; parenthesise it");
                }
                break;
            }
            p = next;
        }
        return p;
    }

    /** End of {@code [+|-]* operand} at {@code k}, or -1. */
    private int operandEnd(List<Unit> units, int k) throws SqlParseException {
        int p = k;
        while (p < units.size() && units.get(p).op() != null && isUnary(units.get(p).op().text())) {
            p++;
        }
        if (p >= units.size() || !units.get(p).operand()) {
            return -1;
        }
        if (p > k && units.get(p).atTimeZone()) {
            throw error(units.get(p - 1).op().offset(),
                    "a sign before an AT TIME ZONE operand is ambiguous here; parenthesise it");
        }
        return p + 1;
    }

    private static boolean needsRewrite(List<Unit> run) {
        int binary = 0;
        boolean mismatch = false;
        boolean expectOperand = true;
        for (Unit u : run) {
            if (u.operand()) {
                expectOperand = false;
            } else if (!expectOperand) {
                String op = u.op().text();
                binary++;
                if (isCustom(op)) {
                    return true;
                }
                mismatch |= NATIVE_OTHER.contains(op) || op.equals("^");
                expectOperand = true;
            }
        }
        return mismatch && binary >= 2;
    }

    private static boolean isUnary(String op) {
        return op.equals("+") || op.equals("-");
    }

    private static boolean isBinary(String op) {
        return !COMPARISON.contains(op) && !op.equals("=>");
    }

    /** An operator Calcite cannot parse, to be carried as a placeholder call. */
    private static boolean isCustom(String op) {
        return isBinary(op) && precedence(op) == 0 && !NATIVE_OTHER.contains(op);
    }

    /** PostgreSQL's binding strength among the operators a run may hold. */
    private static int precedence(String op) {
        return switch (op) {
            case "^" -> 3;
            case "*", "/", "%" -> 2;
            case "+", "-" -> 1;
            default -> 0;
        };
    }

    /** Precedence climbing over one run, printing every application in parentheses. */
    private static final class Climber {
        private final List<Unit> run;
        private int pos;

        Climber(List<Unit> run) {
            this.run = run;
        }

        String expression(int minPrecedence) {
            String left = operand();
            while (pos < run.size()) {
                String op = run.get(pos).op().text();
                int prec = precedence(op);
                if (prec < minPrecedence) {
                    break;
                }
                pos++;
                String right = expression(prec + 1); // all left-associative
                left = isCustom(op)
                        ? "\"" + OP_PREFIX + op.replace("\"", "\"\"") + "\"(" + left + ", " + right + ")"
                        : "(" + left + " " + op + " " + right + ")";
            }
            return left;
        }

        private String operand() {
            Unit u = run.get(pos++);
            if (u.operand()) {
                return u.text();
            }
            return "(" + u.op().text() + " " + operand() + ")"; // unary sign
        }
    }

    /**
     * Parses an operand with its postfixes (casts, subscripts, field selection, AT TIME ZONE), or
     * returns null when none starts at {@code i}.
     */
    private Parsed operand(List<Elem> es, int i) throws SqlParseException {
        Parsed base = primary(es, i);
        if (base == null) {
            return null;
        }
        String text = base.text();
        int p = base.next();
        boolean atTimeZone = false;
        while (true) {
            Parsed postfix = postfix(es, p, text);
            if (postfix != null) {
                text = postfix.text();
                p = postfix.next();
                continue;
            }
            if (word(es, p, "at") && word(es, p + 1, "time") && word(es, p + 2, "zone")) {
                Parsed zone = primary(es, p + 3);
                if (zone == null) {
                    throw error(offset(es, p), "AT TIME ZONE needs a zone the parser understands; parenthesise it");
                }
                String zoneText = zone.text();
                int q = zone.next();
                for (Parsed z = postfix(es, q, zoneText); z != null; z = postfix(es, q, zoneText)) {
                    zoneText = z.text();
                    q = z.next();
                }
                text = "\"" + OP_PREFIX + "AT TIME ZONE\"(" + text + ", " + zoneText + ")";
                p = q;
                atTimeZone = true;
                continue;
            }
            return new Parsed(text, p, atTimeZone);
        }
    }

    /** {@code ::type}, {@code [subscript]} or {@code .field} after {@code text}, or null. */
    private Parsed postfix(List<Elem> es, int p, String text) throws SqlParseException {
        if (kindAt(es, p) == Kind.DOUBLE_COLON) {
            Parsed type = type(es, p + 1, true);
            if (type == null) {
                throw error(offset(es, p), "'::' must be followed by a type name");
            }
            // Babel applies '::' to more than the operand before it; CAST( … ) leaves no doubt.
            return new Parsed("CAST(" + text + " AS " + encodeType(TYPE_PREFIX, type.text()) + ")", type.next(), false);
        }
        if (p < es.size() && es.get(p) instanceof Group g && !g.paren()) {
            return new Parsed(text + g.lead() + groupText(g), p + 1, false);
        }
        if (kindAt(es, p) == Kind.DOT && p + 1 < es.size() && es.get(p + 1) instanceof Tok f
                && (f.kind() == Kind.WORD || f.kind() == Kind.QUOTED || f.text().equals("*"))) {
            return new Parsed(text + tok(es, p).lead() + "." + f.lead() + f.text(), p + 2, false);
        }
        return null;
    }

    private Parsed primary(List<Elem> es, int i) throws SqlParseException {
        if (i >= es.size()) {
            return null;
        }
        Elem e = es.get(i);
        if (e instanceof Group g) {
            return g.paren() ? new Parsed(groupText(g), i + 1, false) : null;
        }
        Tok t = (Tok) e;
        switch (t.kind()) {
            case NUMBER, PARAM, STRING:
                return new Parsed(t.text(), i + 1, false);
            case OP:
                // '?' where an operand belongs is a JDBC parameter, not the jsonb operator
                return t.text().equals("?") ? new Parsed(t.text(), i + 1, false) : null;
            case QUOTED:
                return nameOrCall(es, i);
            case WORD:
                break;
            default:
                return null;
        }
        String w = t.lower();
        if (w.equals("case")) {
            int end = matchingEnd(es, i);
            if (end < 0) {
                return null;
            }
            Tok endTok = (Tok) es.get(end);
            return new Parsed("CASE" + sequence(es.subList(i + 1, end)) + endTok.lead() + "END", end + 1, false);
        }
        if (w.equals("array") && i + 1 < es.size() && es.get(i + 1) instanceof Group g) {
            return new Parsed(t.text() + g.lead() + groupText(g), i + 2, false);
        }
        if (w.equals("cast") && parenAt(es, i + 1)) {
            Group g = (Group) es.get(i + 1);
            return new Parsed(t.text() + g.lead() + "(" + castBody(g) + g.close().lead() + ")", i + 2, false);
        }
        if (w.equals("interval") && kindAt(es, i + 1) == Kind.STRING && kindAt(es, i + 2) == Kind.WORD
                && INTERVAL_FIELDS.contains(tok(es, i + 2).lower())) {
            return standardInterval(es, i);
        }
        if (LITERAL_TYPES.contains(w)) {
            Parsed type = type(es, i, false);
            if (type != null && kindAt(es, type.next()) == Kind.STRING) {
                Tok literal = tok(es, type.next());
                return new Parsed("CAST(" + literal.text() + " AS " + encodeType(LITERAL_PREFIX, type.text()) + ")",
                        type.next() + 1, false);
            }
        }
        if (NOT_OPERAND.contains(w)) {
            return null;
        }
        return nameOrCall(es, i);
    }

    /** {@code INTERVAL 'n' unit [TO unit]}, which Calcite parses itself. */
    private Parsed standardInterval(List<Elem> es, int i) throws SqlParseException {
        StringBuilder text = new StringBuilder(tok(es, i).text()).append(tok(es, i + 1).lead()).append(tok(es, i + 1).text());
        int p = i + 2;
        boolean more = true;
        while (more) {
            Tok field = tok(es, p);
            text.append(field.lead()).append(field.text());
            p++;
            if (parenAt(es, p)) {
                text.append(es.get(p).lead()).append(groupText((Group) es.get(p)));
                p++;
            }
            more = word(es, p, "to") && kindAt(es, p + 1) == Kind.WORD && INTERVAL_FIELDS.contains(tok(es, p + 1).lower());
            if (more) {
                text.append(tok(es, p).lead()).append(tok(es, p).text());
                p++;
            }
        }
        return new Parsed(text.toString(), p, false);
    }

    /** A (qualified) name, optionally called, with the call's WITHIN GROUP / FILTER / OVER. */
    private Parsed nameOrCall(List<Elem> es, int i) throws SqlParseException {
        Tok first = tok(es, i);
        StringBuilder text = new StringBuilder(first.text());
        int p = i + 1;
        while (kindAt(es, p) == Kind.DOT && p + 1 < es.size() && es.get(p + 1) instanceof Tok part
                && (part.kind() == Kind.WORD || part.kind() == Kind.QUOTED || part.text().equals("*"))) {
            text.append(tok(es, p).lead()).append('.').append(part.lead()).append(part.text());
            p += 2;
        }
        if (!parenAt(es, p)) {
            return new Parsed(text.toString(), p, false);
        }
        Group args = (Group) es.get(p);
        int orderBy = topLevelOrderBy(args.items());
        if (orderBy < 0) {
            text.append(args.lead()).append(groupText(args));
        } else {
            // f(x ORDER BY y) is PostgreSQL's; Babel parses it only for a few functions. Carried as
            // f(x) WITHIN GROUP (ORDER BY y), which PostgresDialect prints back inside the parentheses.
            List<Elem> items = args.items();
            int tail = constructorTail(items, orderBy + 2);
            text.append(args.lead()).append("(").append(sequence(items.subList(0, orderBy)))
                    .append(sequence(items.subList(tail, items.size()))).append(args.close().lead())
                    .append(") WITHIN GROUP (ORDER BY").append(sequence(items.subList(orderBy + 2, tail))).append(")");
        }
        p++;
        while (true) {
            if (word(es, p, "within") && word(es, p + 1, "group") && parenAt(es, p + 2)) {
                text.append(tok(es, p).lead()).append(tok(es, p).text()).append(tok(es, p + 1).lead())
                        .append(tok(es, p + 1).text()).append(es.get(p + 2).lead()).append(groupText((Group) es.get(p + 2)));
                p += 3;
            } else if ((word(es, p, "filter") || word(es, p, "over")) && parenAt(es, p + 1)) {
                text.append(tok(es, p).lead()).append(tok(es, p).text()).append(es.get(p + 1).lead())
                        .append(groupText((Group) es.get(p + 1)));
                p += 2;
            } else if (word(es, p, "over") && p + 1 < es.size() && es.get(p + 1) instanceof Tok name
                    && (name.kind() == Kind.WORD || name.kind() == Kind.QUOTED)) {
                text.append(tok(es, p).lead()).append(tok(es, p).text()).append(name.lead()).append(name.text());
                p += 2;
            } else {
                return new Parsed(text.toString(), p, false);
            }
        }
    }

    /**
     * Where the clauses that follow an aggregate's ORDER BY inside its parentheses begin
     * ({@code JSON_ARRAYAGG(v ORDER BY k ABSENT ON NULL RETURNING jsonb)}), or the end.
     */
    private static int constructorTail(List<Elem> items, int from) {
        for (int k = from; k < items.size(); k++) {
            if (items.get(k) instanceof Tok t && (t.isWord("returning")
                    || ((t.isWord("null") || t.isWord("absent")) && word(items, k + 1, "on") && word(items, k + 2, "null")))) {
                return k;
            }
        }
        return items.size();
    }

    /** Index of an {@code ORDER BY} among a call's arguments (not nested), or -1. */
    private static int topLevelOrderBy(List<Elem> items) {
        for (int k = 1; k + 1 < items.size(); k++) {
            if (items.get(k) instanceof Tok t && t.isWord("order") && items.get(k + 1) instanceof Tok b && b.isWord("by")) {
                return k;
            }
        }
        return -1;
    }

    /** The contents of {@code CAST( … )}: the expression rewritten, the type kept verbatim. */
    private String castBody(Group g) throws SqlParseException {
        List<Elem> items = g.items();
        for (int k = 0; k < items.size(); k++) {
            if (items.get(k) instanceof Tok t && t.isWord("as")) {
                Parsed type = type(items, k + 1, true);
                if (type == null || type.next() != items.size()) {
                    throw error(t.offset(), "CAST needs a type name the parser understands");
                }
                return sequence(items.subList(0, k)) + t.lead() + "AS " + encodeType(TYPE_PREFIX, type.text());
            }
        }
        return sequence(items);
    }

    /**
     * A PostgreSQL type name starting at {@code i} (qualified names, multi-word names, modifiers,
     * time zone, interval fields and, when {@code arrays}, array bounds), as compact text.
     */
    private Parsed type(List<Elem> es, int i, boolean arrays) {
        Kind k = kindAt(es, i);
        if (k != Kind.WORD && k != Kind.QUOTED) {
            return null;
        }
        Tok first = tok(es, i);
        StringBuilder text = new StringBuilder(first.text());
        int p = i + 1;
        while (kindAt(es, p) == Kind.DOT && (kindAt(es, p + 1) == Kind.WORD || kindAt(es, p + 1) == Kind.QUOTED)) {
            text.append('.').append(tok(es, p + 1).text());
            p += 2;
        }
        String w = k == Kind.WORD && p == i + 1 ? first.lower() : "";
        if (w.equals("double") && word(es, p, "precision")) {
            text.append(" precision");
            p++;
        } else if (w.equals("national") && (word(es, p, "character") || word(es, p, "char"))) {
            text.append(' ').append(tok(es, p).lower());
            p++;
            w = "character";
        }
        if (Set.of("character", "char", "bit", "nchar").contains(w) && word(es, p, "varying")) {
            text.append(" varying");
            p++;
        }
        if (w.equals("interval")) {
            if (kindAt(es, p) == Kind.WORD && INTERVAL_FIELDS.contains(tok(es, p).lower())) {
                text.append(' ').append(tok(es, p).lower());
                p++;
                if (word(es, p, "to") && kindAt(es, p + 1) == Kind.WORD
                        && INTERVAL_FIELDS.contains(tok(es, p + 1).lower())) {
                    text.append(" to ").append(tok(es, p + 1).lower());
                    p += 2;
                }
            }
        }
        if (parenAt(es, p)) {
            text.append(plain((Group) es.get(p)));
            p++;
        }
        if ((w.equals("timestamp") || w.equals("time")) && (word(es, p, "with") || word(es, p, "without"))
                && word(es, p + 1, "time") && word(es, p + 2, "zone")) {
            text.append(' ').append(tok(es, p).lower()).append(" time zone");
            p += 3;
        }
        while (arrays) {
            if (p < es.size() && es.get(p) instanceof Group g && !g.paren()) {
                text.append(plain(g));
                p++;
            } else if (word(es, p, "array")) {
                text.append(" array");
                p++;
                if (p < es.size() && es.get(p) instanceof Group g && !g.paren()) {
                    text.append(plain(g));
                    p++;
                }
            } else {
                break;
            }
        }
        return new Parsed(text.toString(), p, false);
    }

    private static String encodeType(String prefix, String typeText) {
        return "\"" + prefix + typeText.replace("\"", "\"\"") + "\"";
    }

    /** Index of the END closing the CASE at {@code i}, or -1. */
    private static int matchingEnd(List<Elem> es, int i) {
        int depth = 0;
        for (int k = i; k < es.size(); k++) {
            if (es.get(k) instanceof Tok t) {
                if (t.isWord("case")) {
                    depth++;
                } else if (t.isWord("end") && --depth == 0) {
                    return k;
                }
            }
        }
        return -1;
    }

    /** The words that start a clause of a SELECT (FROM's items end at any other). */
    private static final Set<String> CLAUSES = Set.of("select", "from", "where", "group", "having", "window", "order",
            "limit", "offset", "fetch", "union", "intersect", "except", "returning");

    /** Whether element {@code i} is what a FROM item follows: FROM, a comma, JOIN or LATERAL. */
    private static boolean fromItemStart(List<Elem> es, int i) {
        return i >= 0 && es.get(i) instanceof Tok t && (t.kind() == Kind.COMMA || t.isWord("from") || t.isWord("join")
                || t.isWord("lateral"));
    }

    /**
     * The alias clause {@code [AS] [alias] (name type, …)} of a function in FROM at {@code i} when
     * it holds a column definition list (what a function returning {@code record} needs, such as
     * {@code jsonb_to_recordset(…) AS r(sku text, qty int)}), or null when it is anything else.
     * Babel takes only names in the list, so each definition becomes one quoted name
     * {@code "__pgt_syn_coldef:\"sku\" text"} that {@link QueryParser} turns into a
     * {@link PostgresDialect.ColumnDefinition}. Without an alias PostgreSQL names the item after the
     * function, so that name is written out.
     */
    private Parsed columnDefinitionAlias(List<Elem> es, int i, String function) {
        int p = word(es, i, "as") ? i + 1 : i;
        String alias = function;
        Kind k = kindAt(es, p);
        if ((k == Kind.WORD && !NOT_OPERAND.contains(tok(es, p).lower()) && !CLAUSES.contains(tok(es, p).lower()))
                || k == Kind.QUOTED) {
            alias = tok(es, p).text();
            p++;
        } else if (p == i) {
            return null; // neither AS nor an alias: no alias clause
        }
        if (!parenAt(es, p)) {
            return null;
        }
        List<List<Elem>> parts = commaSeparated(((Group) es.get(p)).items());
        if (parts.stream().noneMatch(part -> part.size() > 1)) {
            return null; // plain column aliases, which Babel parses itself
        }
        List<String> definitions = new ArrayList<>();
        for (List<Elem> part : parts) {
            Kind nameKind = part.isEmpty() ? null : kindAt(part, 0);
            if (nameKind != Kind.WORD && nameKind != Kind.QUOTED) {
                return null; // not a definition: left for the parser to report
            }
            Tok name = tok(part, 0);
            String folded = nameKind == Kind.WORD ? name.lower()
                    : name.text().substring(1, name.text().length() - 1).replace("\"\"", "\"");
            // The type compact as a cast target is; anything else (COLLATE …) as written, for PostgreSQL to judge.
            Parsed type = type(part, 1, true);
            String typeText = type != null && type.next() == part.size() ? type.text()
                    : verbatim(part.subList(1, part.size())).trim();
            String definition = COLUMN_DEFINITION + "\"" + folded.replace("\"", "\"\"") + "\" " + typeText;
            definitions.add("\"" + definition.replace("\"", "\"\"") + "\"");
        }
        return new Parsed("AS " + alias + " (" + String.join(", ", definitions) + ")", p + 1, false);
    }

    private static List<List<Elem>> commaSeparated(List<Elem> items) {
        List<List<Elem>> parts = new ArrayList<>();
        List<Elem> current = new ArrayList<>();
        for (Elem e : items) {
            if (e instanceof Tok t && t.kind() == Kind.COMMA) {
                parts.add(current);
                current = new ArrayList<>();
            } else {
                current.add(e);
            }
        }
        parts.add(current);
        return parts;
    }

    /** The elements as written, every run of whitespace (or comment) a single space. */
    private static String verbatim(List<Elem> es) {
        StringBuilder b = new StringBuilder();
        for (Elem e : es) {
            b.append(e.lead().isEmpty() ? "" : " ");
            if (e instanceof Group g) {
                b.append(g.open().text()).append(verbatim(g.items())).append(g.close().lead().isEmpty() ? "" : " ")
                        .append(g.close().text());
            } else {
                b.append(((Tok) e).text());
            }
        }
        return b.toString();
    }

    /** A call's arguments, each in parentheses (a FROM function takes any expression so). */
    private String parenthesisedArguments(Group args) throws SqlParseException {
        List<String> parts = new ArrayList<>();
        List<Elem> current = new ArrayList<>();
        for (Elem e : args.items()) {
            if (e instanceof Tok t && t.kind() == Kind.COMMA) {
                parts.add("(" + sequence(current) + ")");
                current = new ArrayList<>();
            } else {
                current.add(e);
            }
        }
        if (!current.isEmpty()) {
            parts.add("(" + sequence(current) + ")");
        }
        return String.join(",", parts);
    }

    private String groupText(Group g) throws SqlParseException {
        return g.open().text() + sequence(g.items()) + g.close().lead() + g.close().text();
    }

    /** Compact verbatim text of a type modifier or array bound group. */
    private static String plain(Group g) {
        StringBuilder b = new StringBuilder(g.open().text());
        Tok previous = null;
        for (Elem e : g.items()) {
            if (e instanceof Group inner) {
                b.append(plain(inner));
                previous = null;
                continue;
            }
            Tok t = (Tok) e;
            if (previous != null && wordLike(previous) && wordLike(t)) {
                b.append(' ');
            }
            b.append(t.text());
            if (t.kind() == Kind.COMMA) {
                b.append(' ');
            }
            previous = t;
        }
        return b.append(g.close().text()).toString();
    }

    private static boolean wordLike(Tok t) {
        return t.kind() == Kind.WORD || t.kind() == Kind.QUOTED || t.kind() == Kind.NUMBER || t.kind() == Kind.STRING;
    }

    private static boolean word(List<Elem> es, int i, String word) {
        return i >= 0 && i < es.size() && es.get(i) instanceof Tok t && t.isWord(word);
    }

    private static boolean parenAt(List<Elem> es, int i) {
        return i < es.size() && es.get(i) instanceof Group g && g.paren();
    }

    private static Kind kindAt(List<Elem> es, int i) {
        return i < es.size() && es.get(i) instanceof Tok t ? t.kind() : null;
    }

    private static Tok tok(List<Elem> es, int i) {
        return (Tok) es.get(i);
    }

    private static int offset(List<Elem> es, int i) {
        Elem e = es.get(Math.min(i, es.size() - 1));
        return e instanceof Tok t ? t.offset() : ((Group) e).open().offset();
    }

    private SqlParseException error(int offset, String message) {
        int line = 1;
        int column = 1;
        for (int k = 0; k < offset && k < source.length(); k++) {
            if (source.charAt(k) == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return new SqlParseException(message + " at line " + line + ", column " + column,
                new SqlParserPos(line, column), new int[0][], new String[0], null);
    }
}
