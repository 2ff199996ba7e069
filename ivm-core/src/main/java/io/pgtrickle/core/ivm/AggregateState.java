package io.pgtrickle.core.ivm;

import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.SqlNodeList;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.util.SqlShuttle;

/**
 * The algebraic form of a grouped query whose aggregates are COUNT, SUM, AVG, MIN and MAX (DESIGN
 * §2.2): per group a state row in {@code pgtrickle_state} holds the row count and, per aggregate,
 * a count of non-NULL arguments, a sum, or the current extremum. A refresh adds the weighted
 * changes to the state (O(changes)); a MIN/MAX group is rescanned only when a deleted value could
 * have been its extremum; the output rows of the touched groups are then computed from the state.
 *
 * @param keys group key expressions (SQL over the query's FROM aliases); empty for one global group
 * @param aggregates the aggregates, in the order of their state columns
 * @param outputs the select list computed from a state row (alias {@code __pgt_st})
 * @param having the HAVING condition computed from a state row, or null
 */
public record AggregateState(List<String> keys, List<Aggregate> aggregates, List<String> outputs, String having) {
    /** The schema of state tables. */
    public static final String SCHEMA = "pgtrickle_state";
    /** PostgreSQL's aggregates with an algebraic form (the parser may leave them unresolved). */
    private static final Set<String> ALGEBRAIC = Set.of("count", "sum", "avg", "min", "max");
    private static final Set<String> EXACT_NUMBERS = Set.of("int2", "int4", "int8", "numeric");

    public enum Kind { COUNT_STAR, COUNT, SUM, AVG, MIN, MAX }

    /**
     * @param kind the aggregate function
     * @param argument its argument with any FILTER folded in (CASE WHEN filter THEN argument END), or
     *     null for COUNT(*) without FILTER
     */
    public record Aggregate(Kind kind, String argument) {
        boolean extremum() {
            return kind == Kind.MIN || kind == Kind.MAX;
        }
    }

    boolean global() {
        return keys.isEmpty();
    }

    /**
     * The algebraic form of a grouped SELECT, or null when an output needs something else (another
     * aggregate, DISTINCT inside an aggregate, a column that is not a group key, a float sum).
     *
     * @param fromSql the FROM clause as written (to ask PostgreSQL for argument types)
     */
    static AggregateState analyze(Connection c, List<SqlNode> outputs, List<SqlNode> keyNodes, SqlNode havingNode,
                                  String fromSql) throws SQLException {
        List<Aggregate> aggregates = new ArrayList<>();
        boolean[] ok = {true};
        SqlShuttle rewrite = new SqlShuttle() {
            @Override
            public SqlNode visit(SqlCall call) {
                for (int i = 0; i < keyNodes.size(); i++) {
                    if (call.equalsDeep(keyNodes.get(i), org.apache.calcite.util.Litmus.IGNORE)) {
                        return stateColumn("__pgt_k" + (i + 1));
                    }
                }
                if (SqlTrees.isQuery(call)) {
                    ok[0] = false;
                    return call;
                }
                SqlCall aggregate = call;
                SqlNode filter = null;
                if (call.getKind() == SqlKind.FILTER) {
                    aggregate = (SqlCall) call.operand(0);
                    filter = call.operand(1);
                }
                if (aggregate.getOperator().isAggregator() || call.getKind() == SqlKind.FILTER
                        || call.getKind() == SqlKind.WITHIN_GROUP || ALGEBRAIC.contains(
                        aggregate.getOperator().getName().toLowerCase(Locale.ROOT))) {
                    SqlNode state = stateOf(aggregate, filter, aggregates);
                    if (state == null) {
                        ok[0] = false;
                        return call;
                    }
                    return state;
                }
                return super.visit(call);
            }

            @Override
            public SqlNode visit(SqlIdentifier id) {
                for (int i = 0; i < keyNodes.size(); i++) {
                    if (id.equalsDeep(keyNodes.get(i), org.apache.calcite.util.Litmus.IGNORE)) {
                        return stateColumn("__pgt_k" + (i + 1));
                    }
                }
                if (!(id.names.size() == 2 && id.names.get(0).equals("__pgt_st"))) {
                    ok[0] = false; // a column outside any aggregate that is not a group key
                }
                return id;
            }
        };
        List<String> rewritten = new ArrayList<>();
        for (SqlNode o : outputs) {
            rewritten.add(SqlTrees.sql(o.accept(rewrite)));
        }
        String having = havingNode == null ? null : SqlTrees.sql(havingNode.accept(rewrite));
        if (!ok[0] || aggregates.isEmpty()) {
            return null;
        }
        // SUM/AVG are kept as sums: only exact for exact numbers (a float sum depends on the order of addition).
        List<Aggregate> summed = aggregates.stream().filter(a -> a.kind() == Kind.SUM || a.kind() == Kind.AVG).toList();
        if (!summed.isEmpty()) {
            String probe = "SELECT " + summed.stream().map(a -> a.argument()).collect(Collectors.joining(", "))
                    + " FROM " + fromSql + " WHERE false";
            // A plain statement: JSON operators such as ? must not be taken for parameters.
            try (var st = c.createStatement(); var rs = st.executeQuery(probe)) {
                var md = rs.getMetaData();
                for (int i = 1; i <= md.getColumnCount(); i++) {
                    if (!EXACT_NUMBERS.contains(md.getColumnTypeName(i))) {
                        return null;
                    }
                }
            }
        }
        // Anything else PostgreSQL aggregates (string_agg, …) that the shuttle did not recognise.
        if (IvmCompiler.hasAggregate(c, new SqlNodeList(rewritten.stream().map(SqlTrees::parseExpression).toList(),
                SqlParserPos.ZERO))) {
            return null;
        }
        List<String> keySql = keyNodes.stream().map(SqlTrees::sql).toList();
        return new AggregateState(keySql, List.copyOf(aggregates), rewritten, having);
    }

    private static SqlNode stateColumn(String column) {
        return new SqlIdentifier(List.of("__pgt_st", column), SqlParserPos.ZERO);
    }

    /** The state expression standing for one aggregate call, registering its state; null if not algebraic. */
    private static SqlNode stateOf(SqlCall aggregate, SqlNode filter, List<Aggregate> aggregates) {
        if (aggregate.getFunctionQuantifier() != null || aggregate.getKind() == SqlKind.WITHIN_GROUP) {
            return null; // DISTINCT / ORDER BY inside the aggregate
        }
        String name = aggregate.getOperator().getName().toLowerCase(Locale.ROOT);
        boolean star = aggregate.operandCount() == 0 || aggregate.operandCount() == 1
                && aggregate.operand(0) instanceof SqlIdentifier id && id.isStar();
        Kind kind = switch (name) {
            case "count" -> star ? Kind.COUNT_STAR : Kind.COUNT;
            case "sum" -> Kind.SUM;
            case "avg" -> Kind.AVG;
            case "min" -> Kind.MIN;
            case "max" -> Kind.MAX;
            default -> null;
        };
        if (kind == null || kind != Kind.COUNT_STAR && aggregate.operandCount() != 1) {
            return null;
        }
        String cond = filter == null ? null : SqlTrees.sql(filter);
        String argument = kind == Kind.COUNT_STAR ? (cond == null ? null : "CASE WHEN " + cond + " THEN 1 END")
                : cond == null ? SqlTrees.sql(aggregate.operand(0))
                : "CASE WHEN " + cond + " THEN " + SqlTrees.sql(aggregate.operand(0)) + " END";
        if (kind == Kind.COUNT_STAR && argument != null) {
            kind = Kind.COUNT;
        }
        Aggregate a = new Aggregate(kind, argument);
        int j = aggregates.indexOf(a);
        if (j < 0) {
            aggregates.add(a);
            j = aggregates.size() - 1;
        }
        int n = j + 1;
        String st = "__pgt_st.";
        String expr = switch (kind) {
            case COUNT_STAR -> st + "__pgt_count";
            case COUNT -> st + "__pgt_n" + n;
            case SUM -> "CASE WHEN " + st + "__pgt_n" + n + " > 0 THEN " + st + "__pgt_s" + n + " END";
            case AVG -> "CASE WHEN " + st + "__pgt_n" + n + " > 0 THEN " + st + "__pgt_s" + n + "::numeric / " + st
                    + "__pgt_n" + n + " END";
            case MIN, MAX -> st + "__pgt_m" + n;
        };
        return SqlTrees.parseExpression(expr);
    }

    // ---- SQL --------------------------------------------------------------------------------

    /** The state table of the stream table stored in {@code storageRelid}, for this definition. */
    String tableName(long storageRelid) {
        String signature = NameHash.of(stateProjection(), 8);
        return "agg_" + storageRelid + "_" + signature;
    }

    String qualified(long storageRelid) {
        return Identifiers.quote(SCHEMA) + "." + Identifiers.quote(tableName(storageRelid));
    }

    private String keyColumns(String qualifier) {
        return IntStream.rangeClosed(1, keys.size()).mapToObj(i -> qualifier + "__pgt_k" + i).collect(Collectors.joining(", "));
    }

    /** The state columns computed over source rows: key hash, keys, count, then per aggregate. */
    String stateProjection() {
        List<String> cols = new ArrayList<>();
        cols.add("md5(row(" + String.join(", ", keys) + ")::text)::uuid AS __pgt_kh");
        for (int i = 0; i < keys.size(); i++) {
            cols.add(keys.get(i) + " AS __pgt_k" + (i + 1));
        }
        cols.add("count(*) AS __pgt_count");
        for (int j = 0; j < aggregates.size(); j++) {
            Aggregate a = aggregates.get(j);
            int n = j + 1;
            switch (a.kind()) {
                case COUNT_STAR -> { }
                case COUNT -> cols.add("count(" + a.argument() + ") AS __pgt_n" + n);
                case SUM, AVG -> {
                    cols.add("count(" + a.argument() + ") AS __pgt_n" + n);
                    cols.add("sum(" + a.argument() + ") AS __pgt_s" + n);
                }
                case MIN -> cols.add("min(" + a.argument() + ") AS __pgt_m" + n);
                case MAX -> cols.add("max(" + a.argument() + ") AS __pgt_m" + n);
            }
        }
        return String.join(", ", cols);
    }

    /** The projection of the delta rows: keys, then each aggregate's argument. */
    String deltaProjection() {
        List<String> cols = new ArrayList<>();
        for (int i = 0; i < keys.size(); i++) {
            cols.add(keys.get(i) + " AS __pgt_k" + (i + 1));
        }
        for (int j = 0; j < aggregates.size(); j++) {
            Aggregate a = aggregates.get(j);
            cols.add((a.argument() == null ? "1" : a.argument()) + " AS __pgt_a" + (j + 1));
        }
        return String.join(", ", cols);
    }

    /** Per touched group, the change of every state column (and, for MIN/MAX, the extremes added and removed). */
    String netDeltaSql(String deltaTable) {
        List<String> cols = new ArrayList<>();
        cols.add("md5(row(" + keyColumns("") + ")::text)::uuid AS __pgt_kh");
        if (!keys.isEmpty()) {
            cols.add(keyColumns(""));
        }
        // coalesce: a global group aggregates even an empty delta, into one row of NULL sums.
        cols.add("coalesce(sum(__pgt_w), 0) AS __pgt_count");
        for (int j = 0; j < aggregates.size(); j++) {
            Aggregate a = aggregates.get(j);
            int n = j + 1;
            String arg = "__pgt_a" + n;
            switch (a.kind()) {
                case COUNT_STAR -> { }
                case COUNT -> cols.add("coalesce(sum(__pgt_w) FILTER (WHERE " + arg + " IS NOT NULL), 0) AS __pgt_n" + n);
                case SUM, AVG -> {
                    cols.add("coalesce(sum(__pgt_w) FILTER (WHERE " + arg + " IS NOT NULL), 0) AS __pgt_n" + n);
                    cols.add("coalesce(sum(__pgt_w * " + arg + "), 0) AS __pgt_s" + n);
                }
                case MIN, MAX -> {
                    // Consolidated per value first: a value inserted and deleted in one window is neither.
                    String f = a.kind() == Kind.MIN ? "min" : "max";
                    cols.add(f + "(" + arg + ") FILTER (WHERE __pgt_v" + n + " > 0) AS __pgt_m" + n);
                    cols.add(f + "(" + arg + ") FILTER (WHERE __pgt_v" + n + " < 0) AS __pgt_x" + n);
                }
            }
        }
        String windowed = aggregates.stream().filter(Aggregate::extremum)
                .map(a -> ", sum(__pgt_w) OVER (PARTITION BY " + (keys.isEmpty() ? "" : keyColumns("") + ", ")
                        + "__pgt_a" + (aggregates.indexOf(a) + 1) + ") AS __pgt_v" + (aggregates.indexOf(a) + 1))
                .collect(Collectors.joining());
        return "SELECT " + String.join(", ", cols) + " FROM (SELECT *" + windowed + " FROM " + deltaTable + ") __pgt_d"
                + (keys.isEmpty() ? "" : " GROUP BY " + keyColumns(""));
    }

    /** Whether a group's extremum may have been deleted (then it is rescanned), over state s and net n. */
    String extremumMayHaveLeft() {
        List<String> parts = new ArrayList<>();
        for (int j = 0; j < aggregates.size(); j++) {
            Aggregate a = aggregates.get(j);
            int n = j + 1;
            if (a.extremum()) {
                parts.add("__pgt_n.__pgt_x" + n + (a.kind() == Kind.MIN ? " <= " : " >= ") + "__pgt_s.__pgt_m" + n);
            }
        }
        return parts.isEmpty() ? "false" : String.join(" OR ", parts);
    }

    /** The MERGE that adds the net changes to the state rows. */
    String mergeSql(String stateTable, String netTable) {
        List<String> set = new ArrayList<>();
        List<String> insertCols = new ArrayList<>();
        List<String> insertVals = new ArrayList<>();
        insertCols.add("__pgt_kh");
        insertVals.add("__pgt_n.__pgt_kh");
        for (int i = 1; i <= keys.size(); i++) {
            insertCols.add("__pgt_k" + i);
            insertVals.add("__pgt_n.__pgt_k" + i);
        }
        set.add("__pgt_count = __pgt_s.__pgt_count + __pgt_n.__pgt_count");
        insertCols.add("__pgt_count");
        insertVals.add("__pgt_n.__pgt_count");
        for (int j = 0; j < aggregates.size(); j++) {
            Aggregate a = aggregates.get(j);
            int n = j + 1;
            switch (a.kind()) {
                case COUNT_STAR -> { }
                case COUNT -> add(set, insertCols, insertVals, "__pgt_n" + n, "__pgt_s.__pgt_n" + n + " + __pgt_n.__pgt_n" + n);
                case SUM, AVG -> {
                    add(set, insertCols, insertVals, "__pgt_n" + n, "__pgt_s.__pgt_n" + n + " + __pgt_n.__pgt_n" + n);
                    add(set, insertCols, insertVals, "__pgt_s" + n, "coalesce(__pgt_s.__pgt_s" + n + ", 0) + __pgt_n.__pgt_s" + n);
                }
                case MIN -> add(set, insertCols, insertVals, "__pgt_m" + n, "least(__pgt_s.__pgt_m" + n + ", __pgt_n.__pgt_m" + n + ")");
                case MAX -> add(set, insertCols, insertVals, "__pgt_m" + n,
                        "greatest(__pgt_s.__pgt_m" + n + ", __pgt_n.__pgt_m" + n + ")");
            }
        }
        return "MERGE INTO " + stateTable + " AS __pgt_s USING " + netTable + " AS __pgt_n ON __pgt_s.__pgt_kh = __pgt_n.__pgt_kh\n"
                + "WHEN MATCHED THEN UPDATE SET " + String.join(", ", set) + "\n"
                + "WHEN NOT MATCHED THEN INSERT (" + String.join(", ", insertCols) + ") VALUES ("
                + String.join(", ", insertVals) + ")";
    }

    private static void add(List<String> set, List<String> cols, List<String> vals, String column, String update) {
        set.add(column + " = " + update);
        cols.add(column);
        vals.add("__pgt_n." + column);
    }

    /** The output rows of the groups in {@code hashes}, computed from their state rows, with {@code __pgt_h}. */
    String outputSql(String stateTable, List<String> names, String hashes) {
        return outputSql(stateTable, names, List.of("__pgt_st.__pgt_kh IN (SELECT __pgt_kh FROM " + hashes + ")"));
    }

    /** The output rows of every group, computed from the state rows, with {@code __pgt_h}: a FULL refresh's result. */
    String allOutputSql(String stateTable, List<String> names) {
        return outputSql(stateTable, names, List.of());
    }

    private String outputSql(String stateTable, List<String> names, List<String> restriction) {
        String select = IntStream.range(0, outputs.size())
                .mapToObj(i -> outputs.get(i) + " AS " + Identifiers.quote(names.get(i))).collect(Collectors.joining(", "));
        List<String> conditions = new ArrayList<>(restriction);
        if (!global()) {
            conditions.add("__pgt_st.__pgt_count > 0");
        }
        if (having != null) {
            conditions.add("(" + having + ")");
        }
        return "SELECT " + select + ", __pgt_st.__pgt_kh AS __pgt_h FROM " + stateTable + " __pgt_st"
                + (conditions.isEmpty() ? "" : " WHERE " + String.join(" AND ", conditions));
    }

    /** The state of every group, from the source rows. */
    String fullStateSql(SelectPlan plan) {
        return "SELECT " + stateProjection() + " FROM " + plan.from().render(FromItem::current)
                + (plan.where() == null ? "" : " WHERE " + plan.where()) + (keys.isEmpty() ? "" : " GROUP BY " + String.join(", ", keys));
    }

    /** The state of the groups in {@code keysRelation} (columns __pgt_k1 …), from the source rows. */
    String restrictedStateSql(SelectPlan plan, String keysRelation) {
        if (keys.isEmpty()) {
            return fullStateSql(plan);
        }
        String head = "SELECT " + stateProjection() + " FROM " + plan.from().render(FromItem::current) + " WHERE ";
        String filter = plan.where() == null ? "" : "(" + plan.where() + ") AND ";
        String group = " GROUP BY " + String.join(", ", keys);
        List<String> restrictions = plan.keyRestrictions(keysRelation);
        return "(" + head + filter + restrictions.get(0) + group + ") UNION ALL (" + head + filter + restrictions.get(1) + group + ")";
    }

    /** (Re)creates the state table from the source rows, dropping states of earlier definitions. */
    void rebuild(Connection c, SelectPlan plan, long storageRelid) throws SQLException {
        dropAll(c, storageRelid);
        Jdbc.executeRaw(c, rebuildSql(plan, storageRelid));
    }

    /** The statements of {@link #rebuild} after the drop, for explain. */
    String rebuildSql(SelectPlan plan, long storageRelid) {
        String table = qualified(storageRelid);
        return "CREATE TABLE " + table + " AS " + fullStateSql(plan) + ";\nALTER TABLE " + table + " ADD PRIMARY KEY (__pgt_kh)";
    }

    /** Whether the state table of this definition exists. */
    boolean exists(Connection c, long storageRelid) throws SQLException {
        return Boolean.TRUE.equals(Jdbc.queryValue(c, Boolean.class, "SELECT to_regclass(?) IS NOT NULL", qualified(storageRelid)));
    }

    /** Drops every state table of the stream table stored in {@code storageRelid}. */
    public static void dropAll(Connection c, long storageRelid) throws SQLException {
        List<String> names = new ArrayList<>();
        try (var ps = c.prepareStatement("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                + " WHERE n.nspname = ? AND c.relkind = 'r' AND c.relname LIKE ?")) {
            ps.setString(1, SCHEMA);
            ps.setString(2, "agg\\_" + storageRelid + "\\_%");
            try (var rs = ps.executeQuery()) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
        }
        for (String name : names) {
            Jdbc.executeRaw(c, "DROP TABLE " + Identifiers.quote(SCHEMA) + "." + Identifiers.quote(name));
        }
    }

    /** What explain shows. */
    String describe() {
        return "algebraic aggregates: per-group state (" + aggregates.stream().map(a -> a.kind().name().toLowerCase(Locale.ROOT))
                .collect(Collectors.joining(", ")) + ") plus the weighted changes; MIN/MAX groups rescanned only"
                + " when a deleted value could have been the extremum";
    }
}
