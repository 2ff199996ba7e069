package io.pgtrickle.bench.tpch;

import io.pgtrickle.bench.Sql;
import io.trino.tpch.TpchColumn;
import io.trino.tpch.TpchColumnType;
import io.trino.tpch.TpchEntity;
import io.trino.tpch.TpchTable;
import java.io.IOException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import java.util.function.Consumer;

/**
 * The eight TPC-H tables in schema {@code public}, as the spec defines them (money as
 * {@code numeric(15,2)}), with the primary keys and foreign-key indexes the spec allows, so that
 * differential refreshes can look rows up by key. Each table carries a comment that marks it as
 * the benchmark's, so a run never drops a table it did not make.
 */
public final class TpchSchema {
    static final String MARKER = "pgtrickle bench tpch";

    /** Primary keys, as TPC-H 1.4.2 allows. */
    private static final Map<String, String> PRIMARY_KEYS = Map.of(
            "region", "r_regionkey", "nation", "n_nationkey", "part", "p_partkey", "supplier", "s_suppkey",
            "partsupp", "ps_partkey, ps_suppkey", "customer", "c_custkey", "orders", "o_orderkey",
            "lineitem", "l_orderkey, l_linenumber");

    /** Indexes on foreign keys (also allowed), the columns joins and correlated subqueries look up. */
    private static final List<String> INDEXES = List.of(
            "nation (n_regionkey)", "supplier (s_nationkey)", "customer (c_nationkey)", "partsupp (ps_suppkey)",
            "orders (o_custkey)", "lineitem (l_partkey, l_suppkey)", "lineitem (l_suppkey)");

    private TpchSchema() {
    }

    /** The tables in load order (dimensions first). */
    public static List<TpchTable<?>> tables() {
        return List.of(TpchTable.REGION, TpchTable.NATION, TpchTable.PART, TpchTable.SUPPLIER,
                TpchTable.PART_SUPPLIER, TpchTable.CUSTOMER, TpchTable.ORDERS, TpchTable.LINE_ITEM);
    }

    /** Whether the tables exist, and whether this benchmark made them. */
    public enum Existing { NONE, OURS, FOREIGN }

    public static Existing existing(Connection c) throws SQLException {
        boolean any = false;
        for (TpchTable<?> t : tables()) {
            try (PreparedStatement ps = c.prepareStatement("SELECT to_regclass(?) IS NOT NULL,"
                    + " obj_description(to_regclass(?), 'pg_class')")) {
                ps.setString(1, "public." + t.getTableName());
                ps.setString(2, "public." + t.getTableName());
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    if (rs.getBoolean(1)) {
                        if (!MARKER.equals(rs.getString(2))) {
                            return Existing.FOREIGN;
                        }
                        any = true;
                    }
                }
            }
        }
        return any ? Existing.OURS : Existing.NONE;
    }

    /** The CREATE TABLE statement of {@code table}, with types from the generator's column types. */
    static String createTable(TpchTable<?> table) {
        StringJoiner columns = new StringJoiner(",\n  ", "CREATE TABLE public." + table.getTableName() + " (\n  ",
                ",\n  PRIMARY KEY (" + PRIMARY_KEYS.get(table.getTableName()) + ")\n)");
        for (TpchColumn<?> column : table.getColumns()) {
            columns.add(column.getColumnName() + " " + sqlType(column.getType()) + " NOT NULL");
        }
        return columns.toString();
    }

    static String sqlType(TpchColumnType type) {
        return switch (type.getBase()) {
            case IDENTIFIER -> "bigint";
            case INTEGER -> "integer";
            case DATE -> "date";
            // The generator's doubles are the spec's DECIMAL(15,2) money and ratios.
            case DOUBLE -> "numeric(15,2)";
            case VARCHAR -> "varchar(" + type.getPrecision().orElseThrow() + ")";
        };
    }

    /**
     * Creates the tables and loads them at scale factor {@code scale} with COPY, then adds the
     * indexes and analyzes. Progress (one line per table) goes to {@code progress}.
     */
    public static void load(Connection c, double scale, Consumer<String> progress) throws SQLException, IOException {
        for (TpchTable<?> t : tables()) {
            Sql.execute(c, createTable(t), "COMMENT ON TABLE public." + t.getTableName() + " IS '" + MARKER + "'");
        }
        for (TpchTable<?> t : tables()) {
            long started = System.nanoTime();
            long rows = copy(c, t, scale);
            progress.accept(String.format(java.util.Locale.ROOT, "loaded %-8s %,10d rows in %.1f s",
                    t.getTableName(), rows, (System.nanoTime() - started) / 1e9));
        }
        List<String> statements = new ArrayList<>();
        for (int i = 0; i < INDEXES.size(); i++) {
            statements.add("CREATE INDEX ON public." + INDEXES.get(i));
        }
        for (TpchTable<?> t : tables()) {
            statements.add("ANALYZE public." + t.getTableName());
        }
        Sql.execute(c, statements.toArray(String[]::new));
    }

    private static long copy(Connection c, TpchTable<?> table, double scale) throws SQLException, IOException {
        try (CopyRows copy = CopyRows.open(c, table.getTableName())) {
            for (TpchEntity row : table.createGenerator(scale, 1, 1)) {
                copy.line(line(row));
            }
            return copy.finish();
        }
    }

    /** A generator row as a COPY line: dbgen's pipe-delimited text without its trailing pipe. */
    static String line(TpchEntity row) {
        String line = row.toLine();
        return line.endsWith("|") ? line.substring(0, line.length() - 1) : line;
    }

    /** Drops the tables (stream tables over them must be gone first). */
    public static void drop(Connection c) throws SQLException {
        List<String> statements = new ArrayList<>();
        for (TpchTable<?> t : tables()) {
            statements.add("DROP TABLE IF EXISTS public." + t.getTableName() + " CASCADE");
        }
        Sql.execute(c, statements.toArray(String[]::new));
    }
}
