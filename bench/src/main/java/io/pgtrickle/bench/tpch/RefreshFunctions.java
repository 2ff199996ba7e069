package io.pgtrickle.bench.tpch;

import io.trino.tpch.LineItem;
import io.trino.tpch.LineItemGenerator;
import io.trino.tpch.Order;
import io.trino.tpch.OrderGenerator;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

/**
 * TPC-H-style change batches. One batch of size p, in one transaction:
 * <ul>
 * <li>RF1: inserts p × |orders| new orders, each with its 1–7 lineitems, as the generator makes
 *     them (valid customers, parts and suppliers), under new order keys above the largest;</li>
 * <li>RF2: deletes as many existing orders, chosen at random, and their lineitems;</li>
 * <li>updates as many other existing orders: their priority and comment, their lineitems'
 *     quantity, discount and ship date, and their customer's account balance.</li>
 * </ul>
 * So |orders| stays constant. Random choices come from a seed, so runs are repeatable.
 */
public final class RefreshFunctions {
    private static final String[] PRIORITIES = {"1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"};

    private final double scale;
    private final Random random;
    /** The order keys that exist now; deleted keys are swapped out, new ones appended. */
    private final List<Long> liveKeys;
    private long nextKey;
    private Iterator<Order> orders;
    private PeekingIterator<LineItem> lineItems;

    private RefreshFunctions(double scale, long seed, List<Long> liveKeys) {
        this.scale = scale;
        this.random = new Random(seed);
        this.liveKeys = liveKeys;
        this.nextKey = liveKeys.stream().mapToLong(Long::longValue).max().orElse(0) + 1;
        restartGenerators();
    }

    /** Reads the existing order keys of {@code c}. */
    public static RefreshFunctions open(Connection c, double scale, long seed) throws SQLException {
        List<Long> keys = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT o_orderkey FROM orders"
                + " ORDER BY o_orderkey")) {
            while (rs.next()) {
                keys.add(rs.getLong(1));
            }
        }
        return new RefreshFunctions(scale, seed, keys);
    }

    public long orderCount() {
        return liveKeys.size();
    }

    /** What one batch changed, in rows of each kind. */
    public record Batch(int ordersInserted, long lineItemsInserted, int ordersDeleted, long lineItemsDeleted,
                        int ordersUpdated, long lineItemsUpdated, long customersUpdated) {
        /** All rows written (inserted, deleted, updated). */
        public long rows() {
            return ordersInserted + lineItemsInserted + ordersDeleted + lineItemsDeleted + ordersUpdated
                    + lineItemsUpdated + customersUpdated;
        }
    }

    /** Applies one batch of {@code size} in one transaction on {@code c} (left in auto-commit). */
    public Batch apply(Connection c, ChangeSize size) throws SQLException {
        int n = size.ordersOf(liveKeys.size());
        boolean autoCommit = c.getAutoCommit();
        c.setAutoCommit(false);
        try {
            long[] deleted = takeRandom(n);
            long[] updated = pickRandom(n);
            long[] inserted = new long[2];
            insertOrders(c, n, inserted);
            long lineItemsDeleted = update(c, "DELETE FROM lineitem WHERE l_orderkey = ANY(?)", deleted);
            update(c, "DELETE FROM orders WHERE o_orderkey = ANY(?)", deleted);
            long customers = update(c, "UPDATE customer SET c_acctbal = c_acctbal + 10.00 WHERE c_custkey IN"
                    + " (SELECT o_custkey FROM orders WHERE o_orderkey = ANY(?))", updated);
            update(c, "UPDATE orders SET o_orderpriority = (ARRAY['" + String.join("','", PRIORITIES) + "'])"
                    + "[1 + (o_orderkey + length(o_comment)) % 5], o_comment = left('updated ' || o_comment, 79)"
                    + " WHERE o_orderkey = ANY(?)", updated);
            long lineItemsUpdated = update(c, "UPDATE lineitem SET l_quantity = l_quantity % 50 + 1,"
                    + " l_discount = 0.10 - l_discount, l_shipdate = l_shipdate + 7 WHERE l_orderkey = ANY(?)", updated);
            c.commit();
            return new Batch((int) inserted[0], inserted[1], deleted.length, lineItemsDeleted, updated.length,
                    lineItemsUpdated, customers);
        } catch (SQLException | RuntimeException e) {
            c.rollback();
            throw e;
        } finally {
            c.setAutoCommit(autoCommit);
        }
    }

    /** RF1: {@code n} generated orders and their lineitems, re-keyed above the largest key. */
    private void insertOrders(Connection c, int n, long[] counts) throws SQLException {
        List<String> orderLines = new ArrayList<>();
        List<String> lineItemLines = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (!orders.hasNext()) {
                restartGenerators();
            }
            Order order = orders.next();
            long key = nextKey++;
            orderLines.add(rekeyed(TpchSchema.line(order), key));
            while (lineItems.hasNext() && lineItems.peek().getOrderKey() == order.getOrderKey()) {
                lineItemLines.add(rekeyed(TpchSchema.line(lineItems.next()), key));
            }
            liveKeys.add(key);
        }
        counts[0] = copy(c, "orders", orderLines);
        counts[1] = copy(c, "lineitem", lineItemLines);
    }

    private static long copy(Connection c, String table, List<String> lines) throws SQLException {
        try (CopyRows copy = CopyRows.open(c, table)) {
            for (String line : lines) {
                copy.line(line);
            }
            return copy.finish();
        }
    }

    /** The line with its first field, the order key, replaced. */
    private static String rekeyed(String line, long key) {
        return key + line.substring(line.indexOf('|'));
    }

    private void restartGenerators() {
        orders = new OrderGenerator(scale, 1, 1).iterator();
        lineItems = new PeekingIterator<>(new LineItemGenerator(scale, 1, 1).iterator());
    }

    /** Removes {@code n} random keys from the live ones (for RF2). */
    private long[] takeRandom(int n) {
        long[] keys = new long[Math.min(n, liveKeys.size())];
        for (int i = 0; i < keys.length; i++) {
            int at = random.nextInt(liveKeys.size());
            keys[i] = liveKeys.get(at);
            liveKeys.set(at, liveKeys.get(liveKeys.size() - 1));
            liveKeys.remove(liveKeys.size() - 1);
        }
        return keys;
    }

    /** {@code n} distinct random live keys, which stay live (for updates). */
    private long[] pickRandom(int n) {
        int count = Math.min(n, liveKeys.size());
        java.util.Set<Long> keys = new java.util.LinkedHashSet<>();
        while (keys.size() < count) {
            keys.add(liveKeys.get(random.nextInt(liveKeys.size())));
        }
        return keys.stream().mapToLong(Long::longValue).toArray();
    }

    private static long update(Connection c, String sql, long[] keys) throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            Array array = c.createArrayOf("bigint", java.util.Arrays.stream(keys).boxed().toArray());
            ps.setArray(1, array);
            return ps.executeLargeUpdate();
        }
    }

    /** An iterator that can look at its next element without taking it. */
    private static final class PeekingIterator<T> implements Iterator<T> {
        private final Iterator<T> delegate;
        private T next;

        PeekingIterator(Iterator<T> delegate) {
            this.delegate = delegate;
        }

        T peek() {
            if (next == null) {
                next = delegate.next();
            }
            return next;
        }

        @Override
        public boolean hasNext() {
            return next != null || delegate.hasNext();
        }

        @Override
        public T next() {
            T t = peek();
            next = null;
            return t;
        }
    }
}
