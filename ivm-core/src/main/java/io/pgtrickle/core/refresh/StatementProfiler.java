package io.pgtrickle.core.refresh;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Profiles the statements a refresh runs, without a second code path: the refresh runs as always
 * on a connection this class wraps. Each explainable statement is first run under
 * {@code EXPLAIN (ANALYZE, BUFFERS)} inside a savepoint that is rolled back at once, then run for
 * real and timed. So each plan is of the very statement, in the very state, the refresh would
 * run it, and the refresh carries on with the statement's real results (counts, checks).
 * Everything else (COPY, ANALYZE, DROP, SET) only runs and is timed.
 *
 * <p>Only for a transaction that is rolled back afterwards: it runs every statement twice.
 */
final class StatementProfiler {
    /** Statements EXPLAIN accepts: queries, DML and CREATE TABLE … AS. */
    private static final Pattern EXPLAINABLE = Pattern.compile(
            "(?is)\\s*(SELECT|WITH|INSERT|UPDATE|DELETE|MERGE|VALUES"
                    + "|CREATE\\s+(TEMP(ORARY)?\\s+)?TABLE\\s+[^\\s(]+(\\s+ON\\s+COMMIT\\s+DROP)?\\s+AS)\\b.*");
    private static final Set<String> EXECUTE = Set.of("execute", "executeQuery", "executeUpdate", "executeLargeUpdate");
    private static final String SAVEPOINT = "__pgt_explain";

    /**
     * One statement as the refresh ran it.
     *
     * @param plan its {@code EXPLAIN (ANALYZE, BUFFERS)} output, or {@code null} when EXPLAIN does not apply
     * @param millis how long its real run took (after the explained run: caches are warm)
     */
    record Profiled(String sql, String plan, double millis) {
    }

    private final List<Profiled> statements = new ArrayList<>();
    private long explainNanos;

    List<Profiled> statements() {
        return List.copyOf(statements);
    }

    /** The time spent in EXPLAIN runs since the last call: not part of the refresh's own time. */
    long takeExplainNanos() {
        long n = explainNanos;
        explainNanos = 0;
        return n;
    }

    /** {@code real}, with every statement created through it profiled. */
    Connection wrap(Connection real) {
        return proxy(Connection.class, (p, m, args) -> {
            Object result = invoke(real, m, args);
            if (m.getName().equals("createStatement") && (args == null || args.length == 0)) {
                return statement((Statement) result, real);
            }
            if (m.getName().equals("prepareStatement") && args.length == 1) {
                return prepared((PreparedStatement) result, (String) args[0], real);
            }
            return result;
        });
    }

    private Statement statement(Statement real, Connection connection) {
        return proxy(Statement.class, (p, m, args) -> {
            if (EXECUTE.contains(m.getName()) && args != null && args.length == 1 && args[0] instanceof String sql) {
                return profile(sql, connection, null, () -> invoke(real, m, args));
            }
            return invoke(real, m, args);
        });
    }

    /** A prepared statement: the parameters set on it are set on its EXPLAIN too. */
    private PreparedStatement prepared(PreparedStatement real, String sql, Connection connection) {
        List<Object[]> bindings = new ArrayList<>();
        List<Method> setters = new ArrayList<>();
        return proxy(PreparedStatement.class, (p, m, args) -> {
            if (EXECUTE.contains(m.getName()) && (args == null || args.length == 0)) {
                return profile(sql, connection, ps -> {
                    for (int i = 0; i < setters.size(); i++) {
                        setters.get(i).invoke(ps, bindings.get(i));
                    }
                }, () -> invoke(real, m, args));
            }
            if (m.getName().startsWith("set") && args != null && args.length >= 2 && args[0] instanceof Integer) {
                setters.add(m);
                bindings.add(args.clone());
            }
            return invoke(real, m, args);
        });
    }

    /** Whether EXPLAIN takes {@code sql}: a query, DML or CREATE TABLE … AS, not DDL, COPY or ANALYZE. */
    static boolean explainable(String sql) {
        return EXPLAINABLE.matcher(sql).matches();
    }

    private Object profile(String sql, Connection c, Binder binder, Call call) throws Throwable {
        long explainStart = System.nanoTime();
        String plan = explainable(sql) ? explain(sql, c, binder) : null;
        long start = System.nanoTime();
        explainNanos += start - explainStart;
        Object result = call.run();
        statements.add(new Profiled(sql, plan, (System.nanoTime() - start) / 1e6));
        return result;
    }

    /**
     * Runs {@code sql} under EXPLAIN ANALYZE and undoes it. A statement that fails here fails
     * again when run for real, which then reports the error as the refresh would.
     */
    private static String explain(String sql, Connection c, Binder binder) throws Throwable {
        try (Statement s = c.createStatement()) {
            s.execute("SAVEPOINT " + SAVEPOINT);
        }
        String explain = "EXPLAIN (ANALYZE, BUFFERS) " + sql;
        try {
            StringBuilder plan = new StringBuilder();
            // Our raw SQL may hold '?' (JSON operators): only a prepared statement's SQL is prepared.
            try (Statement s = binder == null ? c.createStatement() : c.prepareStatement(explain)) {
                if (binder != null) {
                    binder.bind((PreparedStatement) s);
                }
                try (ResultSet rs = binder == null ? s.executeQuery(explain) : ((PreparedStatement) s).executeQuery()) {
                    while (rs.next()) {
                        plan.append(rs.getString(1)).append('\n');
                    }
                }
            }
            return plan.toString();
        } catch (SQLException e) {
            return "(could not explain: " + e.getMessage() + ")\n";
        } finally {
            try (Statement s = c.createStatement()) {
                s.execute("ROLLBACK TO SAVEPOINT " + SAVEPOINT);
                s.execute("RELEASE SAVEPOINT " + SAVEPOINT);
            }
        }
    }

    private static Object invoke(Object target, Method m, Object[] args) throws Throwable {
        try {
            return m.invoke(target, args);
        } catch (InvocationTargetException e) {
            throw e.getCause();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, InvocationHandler handler) {
        return (T) Proxy.newProxyInstance(StatementProfiler.class.getClassLoader(), new Class<?>[] {type}, handler);
    }

    @FunctionalInterface
    private interface Binder {
        void bind(PreparedStatement ps) throws Exception;
    }

    @FunctionalInterface
    private interface Call {
        Object run() throws Throwable;
    }
}
