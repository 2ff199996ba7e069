package io.pgtrickle.core.query;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.calcite.sql.SqlBasicTypeNameSpec;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlCharStringLiteral;
import org.apache.calcite.sql.SqlDataTypeSpec;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlOperator;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.SqlSelectOperator;
import org.apache.calcite.sql.SqlSpecialOperator;
import org.apache.calcite.sql.SqlUserDefinedTypeNameSpec;
import org.apache.calcite.sql.SqlWriter;
import org.apache.calcite.sql.dialect.PostgresqlSqlDialect;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.type.SqlTypeName;

/**
 * Calcite's PostgreSQL dialect with the corrections {@link QueryParser#toPostgres} needs: the
 * typed literals and {@code DISTINCT ON} printed as PostgreSQL syntax again, string literals without
 * Calcite's charset prefix, and table functions without Calcite's {@code TABLE(…)} wrapper. The
 * infix operators and verbatim type names defined here print correctly in any dialect.
 */
final class PostgresDialect extends PostgresqlSqlDialect {
    static final PostgresDialect INSTANCE = new PostgresDialect();

    private static final Map<String, SqlOperator> INFIX = new ConcurrentHashMap<>();
    private static final SqlOperator DISTINCT_ON = new DistinctOnOperator();

    private PostgresDialect() {
        super(PostgresqlSqlDialect.DEFAULT_CONTEXT);
    }

    /** The binary operator {@code symbol} (e.g. {@code ->>}, {@code AT TIME ZONE}), printed infix. */
    static SqlOperator infix(String symbol) {
        return INFIX.computeIfAbsent(symbol, InfixOperator::new);
    }

    @Override
    public void quoteStringLiteral(StringBuilder buf, String charsetName, String val) {
        // E'' keeps backslashes literal whatever standard_conforming_strings says.
        if (val.indexOf('\\') >= 0) {
            buf.append("E'").append(val.replace("\\", "\\\\").replace("'", "''")).append('\'');
        } else {
            buf.append('\'').append(val.replace("'", "''")).append('\'');
        }
    }

    private static final java.util.Set<String> KEYWORD_FUNCTIONS = java.util.Set.of("greatest", "least", "json",
            "json_scalar", "json_serialize");

    @Override
    public void unparseCall(SqlWriter writer, SqlCall call, int leftPrec, int rightPrec) {
        if (call instanceof SqlSelect select) {
            List<SqlNode> on = QueryParser.distinctOn(select);
            if (!on.isEmpty()) {
                SqlSelect withKeyword = new SqlSelect(select.getParserPosition(),
                        SqlNodeList.of(DISTINCT_ON.createCall(select.getParserPosition(), on)), select.getSelectList(),
                        select.getFrom(), select.getWhere(), select.getGroup(), select.getHaving(),
                        select.getWindowList(), select.getQualify(), select.getOrderList(), select.getOffset(),
                        select.getFetch(), select.getHints());
                SqlSelectOperator.INSTANCE.unparse(writer, withKeyword, leftPrec, rightPrec);
                return;
            }
        }
        if (call.getKind() == SqlKind.CAST && unparseCast(writer, call)) {
            return;
        }
        if (call.getOperator() instanceof org.apache.calcite.sql.SqlFunction f
                && KEYWORD_FUNCTIONS.contains(f.getName().toLowerCase(java.util.Locale.ROOT))) {
            // GREATEST, LEAST and the SQL/JSON JSON(), JSON_SCALAR(), JSON_SERIALIZE() are grammar in
            // PostgreSQL, not functions: a quoted name is not found.
            SqlWriter.Frame frame = writer.startFunCall(f.getName().toUpperCase(java.util.Locale.ROOT));
            for (SqlNode operand : call.getOperandList()) {
                writer.sep(",");
                operand.unparse(writer, 0, 0);
            }
            writer.endFunCall(frame);
            return;
        }
        if (unparseSqlJson(writer, call, null)) {
            return;
        }
        if (call.getKind() == SqlKind.WITHIN_GROUP && call.operand(0) instanceof SqlCall aggregate
                && !ORDERED_SET.contains(aggregate.getOperator().getName().toLowerCase(java.util.Locale.ROOT))) {
            // Only ordered-set aggregates take WITHIN GROUP; any other aggregate's order goes inside: f(x ORDER BY y).
            SqlNodeList order = call.operand(1);
            if (!unparseSqlJson(writer, aggregate, order)) {
                String text = QueryParser.toPostgres(aggregate);
                writer.literal(text.substring(0, text.lastIndexOf(')')) + orderBy(order) + ")");
            }
            return;
        }
        if (call.getKind() == SqlKind.DOT && call.operandCount() == 2 && call.operand(1) instanceof SqlIdentifier field) {
            // Field selection from a composite value: PostgreSQL needs (value).field, else it reads a table name.
            SqlWriter.Frame frame = writer.startList("(", ")");
            call.operand(0).unparse(writer, 0, 0);
            writer.endList(frame);
            writer.setNeedWhitespace(false);
            writer.print(".");
            writer.setNeedWhitespace(false);
            field.unparse(writer, 0, 0);
            return;
        }
        if (call.getKind() == SqlKind.COLLECTION_TABLE && call.operandCount() == 1) {
            call.operand(0).unparse(writer, 0, 0);
            return;
        }
        super.unparseCall(writer, call, leftPrec, rightPrec);
    }

    /** PostgreSQL's ordered-set and hypothetical-set aggregates: the ones written with WITHIN GROUP. */
    private static final java.util.Set<String> ORDERED_SET = java.util.Set.of("percentile_cont", "percentile_disc",
            "mode", "rank", "dense_rank", "percent_rank", "cume_dist");

    private static String orderBy(SqlNodeList order) {
        return " ORDER BY " + String.join(", ", order.getList().stream().map(QueryParser::toPostgres).toList());
    }

    /**
     * The SQL/JSON constructors in PostgreSQL's syntax: Calcite prints {@code KEY k VALUE v}, which
     * PostgreSQL reads as a typed literal of a type "key". The NULL clause is always printed, so
     * each default (NULL ON NULL for objects, ABSENT ON NULL for arrays, the same in both) is kept.
     */
    private static boolean unparseSqlJson(SqlWriter writer, SqlCall call, SqlNodeList order) {
        SqlOperator op = call.getOperator();
        StringBuilder text = new StringBuilder();
        if (op instanceof org.apache.calcite.sql.fun.SqlJsonObjectFunction) {
            text.append("JSON_OBJECT(");
            for (int i = 1; i + 1 < call.operandCount(); i += 2) {
                text.append(i > 1 ? ", " : "").append(jsonKey(call.operand(i))).append(" VALUE ")
                        .append(QueryParser.toPostgres(call.operand(i + 1)));
            }
            // PostgreSQL takes no NULL clause without a pair: JSON_OBJECT().
            text.append(call.operandCount() > 1 ? nullClause(call.operand(0)) : "").append(')');
        } else if (op instanceof org.apache.calcite.sql.fun.SqlJsonObjectAggAggFunction agg) {
            if (order != null) {
                return false; // PostgreSQL's JSON_OBJECTAGG takes no ORDER BY: let it fail visibly
            }
            text.append("JSON_OBJECTAGG(").append(jsonKey(call.operand(0))).append(" VALUE ")
                    .append(QueryParser.toPostgres(call.operand(1))).append(' ').append(agg.getNullClause().sql).append(')');
        } else if (op instanceof org.apache.calcite.sql.fun.SqlJsonArrayAggAggFunction agg) {
            text.append("JSON_ARRAYAGG(").append(QueryParser.toPostgres(call.operand(0)))
                    .append(order == null ? "" : orderBy(order)).append(' ').append(agg.getNullClause().sql).append(')');
        } else {
            return false;
        }
        writer.literal(text.toString());
        return true;
    }

    /** A key PostgreSQL reads before VALUE: a literal or column as it is, anything else parenthesised. */
    private static String jsonKey(SqlNode key) {
        String text = QueryParser.toPostgres(key);
        return key instanceof org.apache.calcite.sql.SqlLiteral || key instanceof SqlIdentifier ? text : "(" + text + ")";
    }

    private static String nullClause(SqlNode flag) {
        Object value = flag instanceof org.apache.calcite.sql.SqlLiteral l ? l.getValue() : null;
        return value instanceof org.apache.calcite.sql.SqlJsonConstructorNullClause clause ? " " + clause.sql : "";
    }

    /** Typed literals print as written ({@code interval '5 minutes'}); Calcite's DOUBLE as PostgreSQL's name. */
    private static boolean unparseCast(SqlWriter writer, SqlCall call) {
        if (call.operandCount() != 2 || !(call.operand(1) instanceof SqlDataTypeSpec spec)) {
            return false;
        }
        if (spec.getTypeNameSpec() instanceof VerbatimTypeNameSpec verbatim && verbatim.typedLiteral()
                && call.operand(0) instanceof SqlCharStringLiteral) {
            writer.literal(verbatim.text());
            call.operand(0).unparse(writer, 0, 0);
            return true;
        }
        if (spec.getTypeNameSpec() instanceof SqlBasicTypeNameSpec basic && basic.getTypeName().isSimple()
                && SqlTypeName.DOUBLE.name().equals(basic.getTypeName().getSimple())) {
            SqlWriter.Frame frame = writer.startFunCall("CAST");
            call.operand(0).unparse(writer, 0, 0);
            writer.sep("AS");
            writer.literal("double precision"); // Calcite's DOUBLE is no PostgreSQL type
            writer.endFunCall(frame);
            return true;
        }
        return false;
    }

    /**
     * A type name kept exactly as the query wrote it ({@code text[]}, {@code double precision},
     * {@code numeric(10, 2)}), so any dialect prints it unchanged. {@code typedLiteral} marks a cast
     * that was written {@code type 'string'}.
     */
    static final class VerbatimTypeNameSpec extends SqlUserDefinedTypeNameSpec {
        private final String text;
        private final boolean typedLiteral;

        VerbatimTypeNameSpec(String text, boolean typedLiteral, SqlParserPos pos) {
            super(new SqlIdentifier(text, pos), pos);
            this.text = text;
            this.typedLiteral = typedLiteral;
        }

        String text() {
            return text;
        }

        boolean typedLiteral() {
            return typedLiteral;
        }

        @Override
        public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
            writer.literal(text);
        }
    }

    /**
     * One entry of a column definition list ({@code AS r(sku text, qty int)}): a column alias whose
     * name is the column's, so whatever reads the aliases sees the names, and which prints its type,
     * kept as written, after the name in any dialect.
     */
    public static final class ColumnDefinition extends SqlIdentifier {
        private final String type;

        ColumnDefinition(String name, String type, SqlParserPos pos) {
            super(name, pos);
            this.type = type;
        }

        /** The entry encoded by {@link PostgresRewriter}: the name as a quoted identifier, then the type. */
        static ColumnDefinition decode(String encoded, SqlParserPos pos) {
            int end = 1;
            while (end < encoded.length() && !(encoded.charAt(end) == '"'
                    && (end + 1 == encoded.length() || encoded.charAt(end + 1) != '"'))) {
                end += encoded.charAt(end) == '"' ? 2 : 1;
            }
            String name = encoded.substring(1, end).replace("\"\"", "\"");
            return new ColumnDefinition(name, encoded.substring(end + 1).trim(), pos);
        }

        /** The column's type as the query wrote it ({@code int}, {@code numeric(10, 2)}). */
        public String type() {
            return type;
        }

        @Override
        public SqlNode clone(SqlParserPos pos) {
            return new ColumnDefinition(getSimple(), type, pos);
        }

        @Override
        public void unparse(SqlWriter writer, int leftPrec, int rightPrec) {
            writer.identifier(getSimple(), true);
            writer.literal(type);
        }
    }

    /** A PostgreSQL binary operator Calcite has no parser rule for; always printed parenthesised. */
    private static final class InfixOperator extends SqlSpecialOperator {
        InfixOperator(String symbol) {
            super(symbol, SqlKind.OTHER, 98, true, null, null, null);
        }

        @Override
        public void unparse(SqlWriter writer, SqlCall call, int leftPrec, int rightPrec) {
            // With always-use-parentheses the caller already wraps this call.
            SqlWriter.Frame frame = writer.isAlwaysUseParentheses()
                    ? writer.startList(SqlWriter.FrameTypeEnum.SIMPLE)
                    : writer.startList("(", ")");
            call.operand(0).unparse(writer, 99, 99);
            writer.sep(getName());
            call.operand(1).unparse(writer, 99, 99);
            writer.endList(frame);
        }
    }

    /** The select keyword {@code DISTINCT ON (…)}; exists only while a select is printed. */
    private static final class DistinctOnOperator extends SqlSpecialOperator {
        DistinctOnOperator() {
            super("DISTINCT ON", SqlKind.OTHER_FUNCTION);
        }

        @Override
        public void unparse(SqlWriter writer, SqlCall call, int leftPrec, int rightPrec) {
            writer.keyword("DISTINCT ON");
            SqlWriter.Frame frame = writer.startList(SqlWriter.FrameTypeEnum.SIMPLE, "(", ")");
            for (SqlNode e : call.getOperandList()) {
                writer.sep(",");
                e.unparse(writer, 0, 0);
            }
            writer.endList(frame);
        }
    }
}
