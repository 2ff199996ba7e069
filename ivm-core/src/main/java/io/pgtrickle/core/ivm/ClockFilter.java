package io.pgtrickle.core.ivm;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.calcite.sql.SqlCall;
import org.apache.calcite.sql.SqlFunction;
import org.apache.calcite.sql.SqlIdentifier;
import org.apache.calcite.sql.SqlKind;
import org.apache.calcite.sql.SqlLiteral;
import org.apache.calcite.sql.SqlNode;
import org.apache.calcite.sql.fun.SqlStdOperatorTable;
import org.apache.calcite.sql.parser.SqlParserPos;
import org.apache.calcite.sql.util.SqlBasicVisitor;
import org.apache.calcite.sql.util.SqlShuttle;

/**
 * The part of a SELECT's WHERE that reads the clock, maintained as a sliding window: conjuncts
 * built (with AND, OR, NOT) from comparisons of a column expression with an expression of the
 * clock alone ({@code placed_at > now() - interval '7 days'}, {@code d >= current_date - 7},
 * {@code ts BETWEEN now() - interval '1 hour' AND now()}). A refresh fixes the clock at its
 * transaction's {@code now()}; between two refreshes at t_old and t_new a row can change its
 * truth only if one of its compared column values lies between the clock side's two values,
 * so the rows to re-read are a range per comparison ({@link ClockMove}), whatever the direction
 * the clock moved in.
 *
 * @param conjuncts the clock conjuncts as SQL, the clock written as markers ({@link #at})
 * @param bounds every comparison of a column expression with the clock
 */
public record ClockFilter(List<String> conjuncts, List<Bound> bounds) {
    /** The clock values that are the refresh transaction's timestamp (statement and wall clocks are not). */
    static final Set<String> CLOCK = Set.of("now", "current_timestamp", "transaction_timestamp", "localtimestamp",
            "current_date", "current_time", "localtime");

    private static final String MARKER = "__pgt_clock_";
    private static final Pattern MARKED = Pattern.compile("\"?" + MARKER + "([a-z]+)(\\d*)\"?");

    /**
     * A comparison of a column expression with the clock.
     *
     * @param column the column side (SQL)
     * @param clock the clock side (SQL with markers)
     */
    public record Bound(String column, String clock) {
    }

    public ClockFilter {
        conjuncts = List.copyOf(conjuncts);
        bounds = List.copyOf(bounds);
    }

    /** The clock conjuncts of {@code where}, or null when it does not read the clock. */
    static ClockFilter of(SqlNode where) throws NotDifferentiable {
        if (where == null || !readsClock(where)) {
            return null;
        }
        List<String> conjuncts = new ArrayList<>();
        List<Bound> bounds = new ArrayList<>();
        for (SqlNode conjunct : conjuncts(where)) {
            if (readsClock(conjunct)) {
                collectBounds(conjunct, bounds);
                conjuncts.add(SqlTrees.sql(marked(conjunct)));
            }
        }
        return new ClockFilter(conjuncts, bounds);
    }

    /**
     * {@code where} without its clock conjuncts (null when nothing is left), after checking that
     * each has the sliding-window shape.
     *
     * @throws NotDifferentiable naming the construct and the shape that is maintained
     */
    static SqlNode withoutClock(SqlNode where) throws NotDifferentiable {
        if (where == null || !readsClock(where)) {
            return where;
        }
        List<SqlNode> rest = new ArrayList<>();
        for (SqlNode conjunct : conjuncts(where)) {
            if (readsClock(conjunct)) {
                collectBounds(conjunct, new ArrayList<>());
            } else {
                rest.add(conjunct);
            }
        }
        SqlNode out = null;
        for (SqlNode r : rest) {
            out = out == null ? r : SqlStdOperatorTable.AND.createCall(SqlParserPos.ZERO, out, r);
        }
        return out;
    }

    /** The conjunction of the clock conjuncts with the clock fixed at {@code timestamp} (a timestamptz SQL literal). */
    String at(String timestamp) {
        return substitute("(" + String.join(") AND (", conjuncts) + ")", timestamp);
    }

    /** {@code sql} with each clock marker replaced by the value it stands for at {@code timestamp}. */
    static String substitute(String sql, String timestamp) {
        Matcher m = MARKED.matcher(sql);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String precision = m.group(2).isEmpty() ? "" : "(" + m.group(2) + ")";
            String type = switch (m.group(1)) {
                case "date" -> "date";
                case "lts" -> "timestamp" + precision;
                case "time" -> "timetz" + precision;
                case "ltime" -> "time" + precision;
                default -> "timestamptz" + precision;
            };
            // Casts of the refresh's timestamptz in the session time zone, as current_date and the others are.
            String value = type.equals("timestamptz") ? timestamp : "CAST(" + timestamp + " AS " + type + ")";
            m.appendReplacement(out, Matcher.quoteReplacement("(" + value + ")"));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** Whether {@code node} reads the clock anywhere (subqueries included). */
    static boolean readsClock(SqlNode node) {
        if (node == null) {
            return false;
        }
        boolean[] found = {false};
        node.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                if (clockName(call) != null) {
                    found[0] = true;
                    return null;
                }
                return super.visit(call);
            }

            @Override
            public Void visit(SqlIdentifier id) {
                if (clockName(id) != null) {
                    found[0] = true;
                }
                return null;
            }
        });
        return found[0];
    }

    /** The clock function {@code node} calls or names, or null. */
    static String clockName(SqlNode node) {
        String name = null;
        if (node instanceof SqlCall call && call.getOperator() instanceof SqlFunction f) {
            name = f.getName().toLowerCase(Locale.ROOT);
        } else if (node instanceof SqlIdentifier id && id.isSimple()) {
            name = id.getSimple().toLowerCase(Locale.ROOT);
        }
        return name != null && CLOCK.contains(name) ? name : null;
    }

    private static List<SqlNode> conjuncts(SqlNode condition) {
        if (condition.getKind() == SqlKind.AND) {
            List<SqlNode> out = new ArrayList<>();
            for (SqlNode operand : ((SqlCall) condition).getOperandList()) {
                out.addAll(conjuncts(operand));
            }
            return out;
        }
        return List.of(condition);
    }

    private static final String SHAPE = "; the clock is maintained differentially in WHERE comparisons of a column"
            + " with an expression of the clock alone (placed_at > now() - interval '7 days', d >= current_date - 7,"
            + " ts BETWEEN now() - interval '1 hour' AND now()), else refresh FULL";

    /** Checks one clock conjunct's shape and adds its comparisons with the clock to {@code out}. */
    private static void collectBounds(SqlNode node, List<Bound> out) throws NotDifferentiable {
        SqlKind kind = node.getKind();
        if (kind == SqlKind.AND || kind == SqlKind.OR || kind == SqlKind.NOT) {
            for (SqlNode operand : ((SqlCall) node).getOperandList()) {
                if (readsClock(operand)) {
                    collectBounds(operand, out);
                }
            }
            return;
        }
        if (SqlTrees.containsQuery(node)) {
            throw new NotDifferentiable(clockIn(node) + " inside a subquery has no delta rule yet" + SHAPE);
        }
        List<SqlNode> operands = ((SqlCall) node).getOperandList();
        if (kind == SqlKind.BETWEEN) {
            // value BETWEEN low AND high compares value with each bound (so does NOT BETWEEN, SYMMETRIC)
            comparison(node, operands.get(0), operands.get(1), out);
            comparison(node, operands.get(0), operands.get(2), out);
            return;
        }
        if (kind == SqlKind.EQUALS || kind == SqlKind.NOT_EQUALS || kind == SqlKind.LESS_THAN
                || kind == SqlKind.LESS_THAN_OR_EQUAL || kind == SqlKind.GREATER_THAN
                || kind == SqlKind.GREATER_THAN_OR_EQUAL) {
            comparison(node, operands.get(0), operands.get(1), out);
            return;
        }
        throw new NotDifferentiable(clockIn(node) + " in the condition " + SqlTrees.sql(node) + " has no delta rule yet"
                + SHAPE);
    }

    private static void comparison(SqlNode whole, SqlNode a, SqlNode b, List<Bound> out) throws NotDifferentiable {
        boolean aClock = readsClock(a);
        boolean bClock = readsClock(b);
        if (!aClock && !bClock) {
            return;
        }
        if (aClock && bClock || (aClock ? hasColumn(a) : hasColumn(b))) {
            throw new NotDifferentiable(clockIn(whole) + " compared with an expression that mixes it with columns ("
                    + SqlTrees.sql(whole) + ") has no delta rule yet" + SHAPE + " (write age < interval '1 hour' as"
                    + " ts > now() - interval '1 hour')");
        }
        SqlNode clock = aClock ? a : b;
        SqlNode column = aClock ? b : a;
        // A side without columns (now() > '2027-01-01') gives a constant range condition: all rows or none.
        out.add(new Bound(SqlTrees.sql(column), SqlTrees.sql(marked(clock))));
    }

    private static String clockIn(SqlNode node) {
        String[] name = {null};
        node.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlCall call) {
                if (name[0] == null && clockName(call) != null) {
                    name[0] = clockName(call);
                }
                return name[0] == null ? super.visit(call) : null;
            }

            @Override
            public Void visit(SqlIdentifier id) {
                if (name[0] == null && clockName(id) != null) {
                    name[0] = clockName(id);
                }
                return null;
            }
        });
        return name[0] == null ? "the clock" : display(name[0]);
    }

    /** How a clock value is written: now() as a call, current_date as a keyword. */
    static String display(String name) {
        return name.startsWith("current_") || name.startsWith("local") ? name : name + "()";
    }

    /** Whether {@code node} reads a column (an identifier that is not a clock keyword). */
    private static boolean hasColumn(SqlNode node) {
        boolean[] found = {false};
        node.accept(new SqlBasicVisitor<Void>() {
            @Override
            public Void visit(SqlIdentifier id) {
                if (clockName(id) == null) {
                    found[0] = true;
                }
                return null;
            }
        });
        return found[0];
    }

    /** A copy of {@code node} with each clock call replaced by its marker. */
    private static SqlNode marked(SqlNode node) {
        return node.accept(new SqlShuttle() {
            @Override
            public SqlNode visit(SqlCall call) {
                String name = clockName(call);
                if (name != null) {
                    String precision = call.operandCount() == 1 && call.operand(0) instanceof SqlLiteral l
                            && l.getValue() instanceof java.math.BigDecimal p ? p.toPlainString() : "";
                    return marker(name, precision);
                }
                return super.visit(call);
            }

            @Override
            public SqlNode visit(SqlIdentifier id) {
                String name = clockName(id);
                return name != null ? marker(name, "") : id;
            }
        });
    }

    private static SqlIdentifier marker(String name, String precision) {
        String kind = switch (name) {
            case "current_date" -> "date";
            case "localtimestamp" -> "lts";
            case "current_time" -> "time";
            case "localtime" -> "ltime";
            default -> "ts";
        };
        return new SqlIdentifier(MARKER + kind + precision, SqlParserPos.ZERO);
    }
}
