package io.pgtrickle.core.query;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import org.apache.calcite.avatica.util.Casing;
import org.apache.calcite.avatica.util.Quoting;
import org.apache.calcite.sql.SqlBasicCall;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlDataTypeSpec;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.SqlSelect;
import org.apache.calcite.sql.SqlUserDefinedTypeNameSpec;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParser;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.parser.babel.SqlBabelParserImpl;
import org.apache.calcite.sql.util.SqlBasicVisitor;
import org.apache.calcite.sql.validate.SqlConformanceEnum;

/**
 * Parses defining queries with Calcite's Babel parser (PostgreSQL-flavoured SQL) and prints syntax
 * trees back as PostgreSQL.
 *
 * <p>Babel lacks some PostgreSQL syntax and groups some operators differently, so {@link #parse}
 * first rewrites the text (see {@link PostgresRewriter}) and afterwards turns the placeholders into
 * nodes:
 * <ul>
 *   <li>binary operators Calcite has no rule for ({@code -> ->> #> #>> @> <@ ? ?| ?& && #- @@ <->}
 *       and any other PostgreSQL operator symbol, plus {@code AT TIME ZONE}) become calls of an
 *       infix operator whose name is the symbol, nested as PostgreSQL nests them
 *       ({@code a -> 'x' ->> 'y' = 'z'} is {@code =(->>(->(a, 'x'), 'y'), 'z')});</li>
 *   <li>{@code x::type} and {@code CAST(x AS type)} are CAST calls whose type keeps the text as
 *       written ({@code text[]}, {@code interval}, {@code double precision}); a typed literal such as
 *       {@code interval '5 minutes'} is such a cast of the string and prints as written;</li>
 *   <li>{@code $$…$$} strings become ordinary string literals; {@code ISNULL}/{@code NOTNULL} become
 *       {@code IS [NOT] NULL};</li>
 *   <li>a column definition list ({@code jsonb_to_recordset(…) AS r(sku text, qty int)}) keeps its
 *       names as the AS call's column aliases, each a {@link PostgresDialect.ColumnDefinition}
 *       that also holds the type as written and prints it after the name;</li>
 *   <li>{@code SELECT DISTINCT ON (…)}: the ON expressions are not in the tree. They are kept in a
 *       side table keyed by the {@link SqlSelect} instance (held weakly, so it goes with the tree);
 *       {@code select.getSelectList()} holds only the real items and {@code select.isDistinct()}
 *       is false, so a caller must ask {@link #distinctOn}. A copy of the select (clone, shuttle)
 *       does not carry it.</li>
 * </ul>
 * Shapes the rewrite cannot place safely (an operator without an operand it understands,
 * {@code FROM ONLY}, a sign before {@code AT TIME ZONE}) fail with a {@link SqlParseException}
 * instead of being guessed.
 */
public final class QueryParser {
    private static final SqlParser.Config CONFIG = SqlParser.config()
            .withParserFactory(SqlBabelParserImpl.FACTORY)
            .withConformance(SqlConformanceEnum.BABEL)
            .withQuoting(Quoting.DOUBLE_QUOTE)
            .withUnquotedCasing(Casing.TO_LOWER)
            .withQuotedCasing(Casing.UNCHANGED)
            .withCaseSensitive(true);

    private static final Map<SqlSelect, List<SqlNode>> DISTINCT_ON =
            Collections.synchronizedMap(new WeakHashMap<>());

    /** The syntax tree of {@code query}. */
    public SqlNode parse(String query) throws SqlParseException {
        SqlNode node = SqlParser.create(PostgresRewriter.rewrite(query), CONFIG).parseQuery();
        restorePlaceholders(node);
        return node;
    }

    /**
     * PostgreSQL text of {@code node} (a whole query or any part of one, as parsed by
     * {@link #parse}), with {@code DISTINCT ON} and typed literals restored and every operator
     * application parenthesised (Calcite ranks {@code ||}, {@code ~} and {@code ^} differently from
     * PostgreSQL, so its minimal parentheses could change the meaning). The jsonb operators
     * {@code ? ?| ?&} come out as written: pgjdbc reads {@code ?} in a prepared statement as a
     * parameter unless it is doubled.
     */
    public static String toPostgres(SqlNode node) {
        return node.toSqlString(c -> c.withDialect(PostgresDialect.INSTANCE)
                .withAlwaysUseParentheses(true)
                .withSelectListItemsOnSeparateLines(false)
                .withUpdateSetListNewline(false)
                .withClauseStartsLine(false)
                .withClauseEndsLine(false)
                .withIndentation(0)).getSql();
    }

    /** The expressions of {@code SELECT DISTINCT ON (…)}, or an empty list. */
    public static List<SqlNode> distinctOn(SqlSelect select) {
        List<SqlNode> on = DISTINCT_ON.get(select);
        return on == null ? List.of() : on;
    }

    private static void restorePlaceholders(SqlNode root) throws SqlParseException {
        List<SqlSelect> selects = new ArrayList<>();
        root.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                if (call instanceof SqlBasicCall basic
                        && basic.getOperator().getName().startsWith(PostgresRewriter.OP_PREFIX)) {
                    basic.setOperator(PostgresDialect.infix(
                            basic.getOperator().getName().substring(PostgresRewriter.OP_PREFIX.length())));
                } else if (call instanceof SqlBasicCall cast && cast.getKind() == SqlKind.CAST
                        && cast.operandCount() == 2 && cast.operand(1) instanceof SqlDataTypeSpec spec
                        && spec.getTypeNameSpec() instanceof SqlUserDefinedTypeNameSpec named
                        && named.getTypeName().isSimple()) {
                    String name = named.getTypeName().getSimple();
                    boolean literal = name.startsWith(PostgresRewriter.LITERAL_PREFIX);
                    if (literal || name.startsWith(PostgresRewriter.TYPE_PREFIX)) {
                        String text = name.substring(literal ? PostgresRewriter.LITERAL_PREFIX.length()
                                : PostgresRewriter.TYPE_PREFIX.length());
                        cast.setOperand(1, new SqlDataTypeSpec(
                                new PostgresDialect.VerbatimTypeNameSpec(text, literal, spec.getParserPosition()),
                                spec.getParserPosition()));
                    }
                } else if (call instanceof SqlSelect select) {
                    selects.add(select);
                } else if (call instanceof SqlBasicCall as && as.getKind() == SqlKind.AS) {
                    for (int i = 2; i < as.operandCount(); i++) {
                        if (as.operand(i) instanceof SqlIdentifier id && id.isSimple()
                                && id.getSimple().startsWith(PostgresRewriter.COLUMN_DEFINITION)) {
                            as.setOperand(i, PostgresDialect.ColumnDefinition.decode(
                                    id.getSimple().substring(PostgresRewriter.COLUMN_DEFINITION.length()),
                                    id.getParserPosition()));
                        }
                    }
                }
                return super.visit(call);
            }
        });
        for (SqlSelect select : selects) {
            List<SqlNode> items = select.getSelectList().getList();
            if (!items.isEmpty() && isDistinctOnMarker(items.get(0))) {
                DISTINCT_ON.put(select, List.copyOf(((SqlCall) items.get(0)).getOperandList()));
                select.setSelectList(new SqlNodeList(items.subList(1, items.size()),
                        select.getSelectList().getParserPosition()));
            }
        }
        boolean[] stray = new boolean[1];
        root.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                stray[0] |= isDistinctOnMarker(call);
                return super.visit(call);
            }
        });
        if (stray[0]) {
            throw new SqlParseException("DISTINCT ON is only understood right after SELECT", SqlParserPos.ZERO,
                    new int[0][], new String[0], null);
        }
    }

    private static boolean isDistinctOnMarker(SqlNode node) {
        return node instanceof SqlBasicCall call && call.getOperator().getName().equals(PostgresRewriter.DISTINCT_ON);
    }
}
