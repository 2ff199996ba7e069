package io.pgtrickle.core.query;

import org.apache.calcite.avatica.util.Casing;
import org.apache.calcite.avatica.util.Quoting;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.parser.SqlParseException;
import org.apache.calcite.sql.parser.SqlParser;
import org.apache.calcite.sql.parser.babel.SqlBabelParserImpl;
import org.apache.calcite.sql.validate.SqlConformanceEnum;

/**
 * Parses defining queries with Calcite's Babel parser (PostgreSQL-flavoured SQL) and decides
 * whether they can be maintained differentially.
 */
public final class QueryParser {
    private static final SqlParser.Config CONFIG = SqlParser.config()
            .withParserFactory(SqlBabelParserImpl.FACTORY)
            .withConformance(SqlConformanceEnum.BABEL)
            .withQuoting(Quoting.DOUBLE_QUOTE)
            .withUnquotedCasing(Casing.TO_LOWER)
            .withQuotedCasing(Casing.UNCHANGED)
            .withCaseSensitive(true);

    /** The syntax tree of {@code query}. */
    public SqlNode parse(String query) throws SqlParseException {
        return SqlParser.create(query, CONFIG).parseQuery();
    }

    public QueryAnalysis analyze(String query) {
        SqlNode node;
        try {
            node = parse(query);
        } catch (SqlParseException e) {
            String message = e.getMessage() == null ? "" : e.getMessage().lines().findFirst().orElse("");
            return QueryAnalysis.notParsed("the IVM compiler cannot parse the query (" + message + ")");
        }
        if (!node.getKind().belongsTo(SqlKind.QUERY) && node.getKind() != SqlKind.ORDER_BY
                && node.getKind() != SqlKind.WITH) {
            return QueryAnalysis.notParsed("the defining query is a " + node.getKind() + ", not a query");
        }
        // Delta rules arrive with the differential engine; until then every query refreshes FULL.
        return new QueryAnalysis(true, false, "differential maintenance is not available in this version");
    }
}
