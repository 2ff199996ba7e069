package io.pgtrickle.core.ivm.harness;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * A partitioned table (a range partition, a sub-partitioned one, a default one) and an
 * inheritance tree (a child with a column of its own, one without), with a plain table to join.
 * Batches write through the roots and directly to the partitions and children, move rows between
 * partitions and update only a child's own column. Shapes read the roots, a partition and a child.
 */
public final class PartitionWorkload implements Workload {
    private static final int KEYS = 40;
    private static final int CUSTOMERS = 5;

    private static final List<Shape> SHAPES = List.of(
            Shape.of("pt_filter", "SELECT id, k, cust, amount FROM pt_orders WHERE amount > 20"),
            Shape.of("pt_aggregate", "SELECT cust, count(*) AS n, sum(amount) AS total FROM pt_orders GROUP BY cust"),
            Shape.of("pt_join", "SELECT o.id, o.amount, c.name FROM pt_orders o JOIN pt_customers c ON c.id = o.cust"),
            Shape.of("pt_distinct", "SELECT DISTINCT cust, k / 50 AS band FROM pt_orders"),
            Shape.of("pt_partition_direct", "SELECT id, cust, amount FROM pt_orders_b"),
            Shape.of("pt_inherit_filter", "SELECT id, cust, qty FROM pt_items WHERE qty > 2"),
            Shape.of("pt_inherit_aggregate", "SELECT cust, count(*) AS n, sum(qty) AS q, max(qty) AS top FROM pt_items"
                    + " GROUP BY cust"),
            Shape.of("pt_inherit_join", "SELECT i.id, i.qty, c.tier FROM pt_items i JOIN pt_customers c ON c.id = i.cust"),
            Shape.of("pt_inherit_distinct", "SELECT DISTINCT cust FROM pt_items"),
            Shape.of("pt_inherit_exists", "SELECT c.id, c.name FROM pt_customers c"
                    + " WHERE EXISTS (SELECT 1 FROM pt_items i WHERE i.cust = c.id AND i.qty > 3)"),
            Shape.of("pt_child_direct", "SELECT id, cust, qty, note FROM pt_items_x"),
            // Not in ExpectedModes (whose list must name shapes of the shared workloads only): the
            // compiler cannot parse FROM ONLY, so AUTO must choose FULL.
            new Shape("pt_only_parent", "SELECT id, qty FROM ONLY pt_items", false));

    @Override
    public String name() {
        return "partitions";
    }

    @Override
    public List<String> schema() {
        return List.of("CREATE TABLE pt_orders (id int NOT NULL, k int NOT NULL, cust int, amount int) PARTITION BY RANGE (k)",
                "CREATE TABLE pt_orders_a PARTITION OF pt_orders FOR VALUES FROM (0) TO (50)",
                "CREATE TABLE pt_orders_b PARTITION OF pt_orders FOR VALUES FROM (50) TO (100) PARTITION BY LIST (cust)",
                "CREATE TABLE pt_orders_b1 PARTITION OF pt_orders_b FOR VALUES IN (1, 2)",
                "CREATE TABLE pt_orders_b2 PARTITION OF pt_orders_b DEFAULT",
                "CREATE TABLE pt_orders_rest PARTITION OF pt_orders DEFAULT",
                "CREATE TABLE pt_customers (id int PRIMARY KEY, name text NOT NULL, tier int)",
                "CREATE TABLE pt_items (id int NOT NULL, cust int, qty int)",
                "CREATE TABLE pt_items_x (note text) INHERITS (pt_items)",
                "CREATE TABLE pt_items_y () INHERITS (pt_items)");
    }

    @Override
    public List<String> tables() {
        return List.of("pt_orders", "pt_customers", "pt_items");
    }

    @Override
    public List<String> seed(Random random) {
        List<String> sql = new ArrayList<>();
        for (int c = 1; c <= CUSTOMERS; c++) {
            sql.add(upsertCustomer(random, c));
        }
        for (int i = 0; i < 25; i++) {
            sql.add(insertOrder(random, "pt_orders", random.nextInt(150)));
            sql.add(insertItem(random, ITEM_TABLES[random.nextInt(ITEM_TABLES.length)]));
        }
        return sql;
    }

    private static final String[] ITEM_TABLES = {"pt_items", "pt_items_x", "pt_items_y"};

    @Override
    public Batch randomBatch(Random random) {
        return Batch.random(random, 10, PartitionWorkload::randomChange);
    }

    @Override
    public List<Shape> shapes() {
        return SHAPES;
    }

    private static String randomChange(Random random) {
        int id = 1 + random.nextInt(KEYS);
        return switch (random.nextInt(18)) {
            case 0, 1 -> insertOrder(random, "pt_orders", random.nextInt(150));
            case 2 -> insertOrder(random, "pt_orders_a", random.nextInt(50));
            case 3 -> insertOrder(random, "pt_orders_b", 50 + random.nextInt(50));
            case 4 -> "UPDATE pt_orders SET amount = amount + " + (random.nextInt(21) - 10) + " WHERE id = " + id;
            // moves the row to another partition
            case 5 -> "UPDATE pt_orders SET k = " + random.nextInt(150) + " WHERE id = " + id;
            // moves the row between the sub-partitions of pt_orders_b
            case 6 -> "UPDATE pt_orders_b SET cust = " + cust(random) + " WHERE id = " + id;
            case 7 -> "DELETE FROM " + (random.nextBoolean() ? "pt_orders" : "pt_orders_rest") + " WHERE id = " + id;
            case 8 -> "UPDATE pt_orders_b1 SET amount = NULL WHERE id % 5 = " + random.nextInt(5);
            case 9, 10 -> insertItem(random, ITEM_TABLES[random.nextInt(ITEM_TABLES.length)]);
            // through the parent: reaches the children's rows
            case 11 -> "UPDATE pt_items SET qty = qty + " + (random.nextInt(5) - 2) + " WHERE id = " + id;
            case 12 -> "UPDATE pt_items_x SET note = 'n" + random.nextInt(3) + "' WHERE id = " + id; // the child's own column
            case 13 -> "UPDATE ONLY pt_items SET cust = " + cust(random) + " WHERE id = " + id;
            case 14 -> "DELETE FROM " + ITEM_TABLES[random.nextInt(ITEM_TABLES.length)] + " WHERE id = " + id;
            case 15 -> "DELETE FROM pt_items WHERE cust = " + cust(random) + " AND qty < 2";
            default -> upsertCustomer(random, 1 + random.nextInt(CUSTOMERS + 1));
        };
    }

    private static String insertOrder(Random random, String table, int k) {
        return "INSERT INTO " + table + " VALUES (" + (1 + random.nextInt(KEYS)) + ", " + k + ", " + cust(random) + ", "
                + (random.nextInt(8) == 0 ? "NULL" : String.valueOf(random.nextInt(50))) + ")";
    }

    private static String insertItem(Random random, String table) {
        String values = (1 + random.nextInt(KEYS)) + ", " + cust(random) + ", " + random.nextInt(6);
        return "INSERT INTO " + table + " VALUES (" + values + (table.equals("pt_items_x") ? ", 'n" + random.nextInt(3) + "'" : "")
                + ")";
    }

    private static String upsertCustomer(Random random, int id) {
        return "INSERT INTO pt_customers VALUES (" + id + ", 'c" + random.nextInt(4) + "', " + random.nextInt(3) + ")"
                + " ON CONFLICT (id) DO UPDATE SET name = excluded.name, tier = excluded.tier";
    }

    private static String cust(Random random) {
        return random.nextInt(10) == 0 ? "NULL" : String.valueOf(1 + random.nextInt(CUSTOMERS));
    }
}
