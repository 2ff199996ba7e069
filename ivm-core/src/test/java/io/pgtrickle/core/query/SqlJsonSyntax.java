package io.pgtrickle.core.query;

import java.util.regex.Pattern;

/**
 * Which PostgreSQL first accepts the SQL/JSON syntax a test query uses, so that the suite can run
 * against every supported server ({@code -Dpgtrickle.postgres.version}) and skip only what that
 * server lacks: the constructors and IS JSON came with 16, the query functions and JSON() with 17.
 */
public final class SqlJsonSyntax {
    private static final Pattern SINCE_17 = Pattern.compile(
            "(?i)\\bJSON(_VALUE|_QUERY|_EXISTS|_SCALAR|_SERIALIZE|_TABLE)?\\s*\\(");
    private static final Pattern SINCE_16 = Pattern.compile(
            "(?i)\\bJSON_(OBJECT|ARRAY|OBJECTAGG|ARRAYAGG)\\s*\\(|\\bIS\\s+(NOT\\s+)?JSON\\b");

    private SqlJsonSyntax() {
    }

    /** The lowest {@code server_version_num} that parses {@code sql}'s SQL/JSON syntax (0 when it uses none). */
    public static int minimumServerVersion(String sql) {
        if (SINCE_17.matcher(sql).find()) {
            return 170000;
        }
        return SINCE_16.matcher(sql).find() ? 160000 : 0;
    }
}
