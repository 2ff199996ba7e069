package io.pgtrickle.core.ivm.harness;

import java.math.BigDecimal;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny TPC-H: the eight tables with the benchmark's column names and types, a few hundred rows
 * drawn from value sets that include the queries' constants (so their predicates select
 * something), and TPC-H-style changes: new orders with their lineitems, deleted orders with
 * theirs, changed quantities, prices, flags and dates, and occasional customer, supplier and part
 * updates.
 *
 * <p>The 22 queries are adapted for PostgreSQL and for a stream table: no ORDER BY / LIMIT, dates
 * as literals instead of {@code interval} arithmetic, every output column named. Two thresholds
 * are scaled to the data (Q11's fraction, Q18's quantity), as the specification scales Q11's.
 */
public final class TpchWorkload implements Workload {
    private static final int PARTS = 40;
    private static final int SUPPLIERS = 12;
    private static final int CUSTOMERS = 45;
    private static final int SEED_ORDERS = 150;
    private static final int SUPPLIERS_PER_PART = 4;
    /** Mid-1993 to early 1996: every query's date window holds orders. */
    private static final LocalDate FIRST_ORDER_DATE = LocalDate.of(1993, 6, 1);
    private static final int ORDER_DATE_SPAN_DAYS = 1000;

    private static final String[] REGIONS = {"AFRICA", "AMERICA", "ASIA", "EUROPE", "MIDDLE EAST"};
    /** The 25 nations of the specification, with their regions. */
    private static final String[][] NATIONS = {{"ALGERIA", "0"}, {"ARGENTINA", "1"}, {"BRAZIL", "1"}, {"CANADA", "1"},
            {"EGYPT", "4"}, {"ETHIOPIA", "0"}, {"FRANCE", "3"}, {"GERMANY", "3"}, {"INDIA", "2"}, {"INDONESIA", "2"},
            {"IRAN", "4"}, {"IRAQ", "4"}, {"JAPAN", "2"}, {"JORDAN", "4"}, {"KENYA", "0"}, {"MOROCCO", "0"},
            {"MOZAMBIQUE", "0"}, {"PERU", "1"}, {"CHINA", "2"}, {"ROMANIA", "3"}, {"SAUDI ARABIA", "4"},
            {"VIETNAM", "2"}, {"RUSSIA", "3"}, {"UNITED KINGDOM", "3"}, {"UNITED STATES", "1"}};
    /** Nations the queries name: BRAZIL, CANADA, FRANCE, GERMANY, JAPAN, CHINA, SAUDI ARABIA. */
    private static final int[] HOT_NATIONS = {2, 3, 6, 7, 12, 18, 20};
    private static final String[] SEGMENTS = {"AUTOMOBILE", "BUILDING", "FURNITURE", "HOUSEHOLD", "MACHINERY"};
    private static final String[] PRIORITIES = {"1-URGENT", "2-HIGH", "3-MEDIUM", "4-NOT SPECIFIED", "5-LOW"};
    private static final String[] SHIP_MODES = {"REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"};
    private static final String[] INSTRUCTIONS = {"DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"};
    private static final String[] BRANDS = {"Brand#12", "Brand#23", "Brand#34", "Brand#45", "Brand#11"};
    private static final String[] TYPES = {"ECONOMY ANODIZED STEEL", "PROMO BRUSHED COPPER", "MEDIUM POLISHED BRASS",
            "STANDARD PLATED BRASS", "LARGE BURNISHED TIN", "SMALL POLISHED NICKEL", "PROMO ANODIZED BRASS",
            "MEDIUM BURNISHED STEEL", "ECONOMY PLATED COPPER", "LARGE BRUSHED BRASS"};
    private static final String[] CONTAINERS = {"SM CASE", "SM BOX", "SM PACK", "SM PKG", "MED BAG", "MED BOX", "MED PKG",
            "MED PACK", "LG CASE", "LG BOX", "LG PACK", "LG PKG", "JUMBO JAR"};
    private static final int[] SIZES = {1, 3, 5, 9, 10, 14, 15, 15, 19, 23, 36, 45, 49};
    private static final String[] COLORS = {"green", "forest", "almond", "blue", "khaki", "navy", "red", "lime"};
    private static final String[] COMMENTS = {"furiously special requests", "carefully final deposits",
            "quickly regular packages", "slyly ironic accounts", "pending foxes nag", "bold instructions sleep"};

    private static final List<Shape> SHAPES = List.of(
            Shape.of("tpch_q1", """
                    SELECT l_returnflag, l_linestatus, sum(l_quantity) AS sum_qty, sum(l_extendedprice) AS sum_base_price,
                           sum(l_extendedprice * (1 - l_discount)) AS sum_disc_price,
                           sum(l_extendedprice * (1 - l_discount) * (1 + l_tax)) AS sum_charge,
                           avg(l_quantity) AS avg_qty, avg(l_extendedprice) AS avg_price, avg(l_discount) AS avg_disc,
                           count(*) AS count_order
                      FROM lineitem
                     WHERE l_shipdate <= date '1998-12-01' - 90
                     GROUP BY l_returnflag, l_linestatus"""),
            Shape.of("tpch_q2", """
                    SELECT s_acctbal, s_name, n_name, p_partkey, p_mfgr, s_address, s_phone, s_comment
                      FROM part, supplier, partsupp, nation, region
                     WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey AND p_size = 15 AND p_type LIKE '%BRASS'
                       AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey AND r_name = 'EUROPE'
                       AND ps_supplycost = (SELECT min(ps_supplycost) FROM partsupp, supplier, nation, region
                                             WHERE p_partkey = ps_partkey AND s_suppkey = ps_suppkey
                                               AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey
                                               AND r_name = 'EUROPE')"""),
            Shape.of("tpch_q3", """
                    SELECT l_orderkey, sum(l_extendedprice * (1 - l_discount)) AS revenue, o_orderdate, o_shippriority
                      FROM customer, orders, lineitem
                     WHERE c_mktsegment = 'BUILDING' AND c_custkey = o_custkey AND l_orderkey = o_orderkey
                       AND o_orderdate < date '1995-03-15' AND l_shipdate > date '1995-03-15'
                     GROUP BY l_orderkey, o_orderdate, o_shippriority"""),
            Shape.of("tpch_q4", """
                    SELECT o_orderpriority, count(*) AS order_count
                      FROM orders
                     WHERE o_orderdate >= date '1993-07-01' AND o_orderdate < date '1993-10-01'
                       AND EXISTS (SELECT * FROM lineitem WHERE l_orderkey = o_orderkey AND l_commitdate < l_receiptdate)
                     GROUP BY o_orderpriority"""),
            Shape.of("tpch_q5", """
                    SELECT n_name, sum(l_extendedprice * (1 - l_discount)) AS revenue
                      FROM customer, orders, lineitem, supplier, nation, region
                     WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND l_suppkey = s_suppkey
                       AND c_nationkey = s_nationkey AND s_nationkey = n_nationkey AND n_regionkey = r_regionkey
                       AND r_name = 'ASIA' AND o_orderdate >= date '1994-01-01' AND o_orderdate < date '1995-01-01'
                     GROUP BY n_name"""),
            Shape.of("tpch_q6", """
                    SELECT sum(l_extendedprice * l_discount) AS revenue
                      FROM lineitem
                     WHERE l_shipdate >= date '1994-01-01' AND l_shipdate < date '1995-01-01'
                       AND l_discount BETWEEN 0.06 - 0.01 AND 0.06 + 0.01 AND l_quantity < 24"""),
            Shape.of("tpch_q7", """
                    SELECT supp_nation, cust_nation, l_year, sum(volume) AS revenue
                      FROM (SELECT n1.n_name AS supp_nation, n2.n_name AS cust_nation,
                                   extract(year FROM l_shipdate) AS l_year, l_extendedprice * (1 - l_discount) AS volume
                              FROM supplier, lineitem, orders, customer, nation n1, nation n2
                             WHERE s_suppkey = l_suppkey AND o_orderkey = l_orderkey AND c_custkey = o_custkey
                               AND s_nationkey = n1.n_nationkey AND c_nationkey = n2.n_nationkey
                               AND ((n1.n_name = 'FRANCE' AND n2.n_name = 'GERMANY')
                                 OR (n1.n_name = 'GERMANY' AND n2.n_name = 'FRANCE'))
                               AND l_shipdate BETWEEN date '1995-01-01' AND date '1996-12-31') AS shipping
                     GROUP BY supp_nation, cust_nation, l_year"""),
            Shape.of("tpch_q8", """
                    SELECT o_year, sum(CASE WHEN nation = 'BRAZIL' THEN volume ELSE 0 END) / sum(volume) AS mkt_share
                      FROM (SELECT extract(year FROM o_orderdate) AS o_year,
                                   l_extendedprice * (1 - l_discount) AS volume, n2.n_name AS nation
                              FROM part, supplier, lineitem, orders, customer, nation n1, nation n2, region
                             WHERE p_partkey = l_partkey AND s_suppkey = l_suppkey AND l_orderkey = o_orderkey
                               AND o_custkey = c_custkey AND c_nationkey = n1.n_nationkey
                               AND n1.n_regionkey = r_regionkey AND r_name = 'AMERICA' AND s_nationkey = n2.n_nationkey
                               AND o_orderdate BETWEEN date '1995-01-01' AND date '1996-12-31'
                               AND p_type = 'ECONOMY ANODIZED STEEL') AS all_nations
                     GROUP BY o_year"""),
            Shape.of("tpch_q9", """
                    SELECT nation, o_year, sum(amount) AS sum_profit
                      FROM (SELECT n_name AS nation, extract(year FROM o_orderdate) AS o_year,
                                   l_extendedprice * (1 - l_discount) - ps_supplycost * l_quantity AS amount
                              FROM part, supplier, lineitem, partsupp, orders, nation
                             WHERE s_suppkey = l_suppkey AND ps_suppkey = l_suppkey AND ps_partkey = l_partkey
                               AND p_partkey = l_partkey AND o_orderkey = l_orderkey AND s_nationkey = n_nationkey
                               AND p_name LIKE '%green%') AS profit
                     GROUP BY nation, o_year"""),
            Shape.of("tpch_q10", """
                    SELECT c_custkey, c_name, sum(l_extendedprice * (1 - l_discount)) AS revenue, c_acctbal, n_name,
                           c_address, c_phone, c_comment
                      FROM customer, orders, lineitem, nation
                     WHERE c_custkey = o_custkey AND l_orderkey = o_orderkey AND o_orderdate >= date '1993-10-01'
                       AND o_orderdate < date '1994-01-01' AND l_returnflag = 'R' AND c_nationkey = n_nationkey
                     GROUP BY c_custkey, c_name, c_acctbal, c_phone, n_name, c_address, c_comment"""),
            // The fraction is scaled to the data: the specification's 0.0001 is for scale factor 1.
            Shape.of("tpch_q11", """
                    SELECT ps_partkey, sum(ps_supplycost * ps_availqty) AS part_value
                      FROM partsupp, supplier, nation
                     WHERE ps_suppkey = s_suppkey AND s_nationkey = n_nationkey AND n_name = 'GERMANY'
                     GROUP BY ps_partkey
                    HAVING sum(ps_supplycost * ps_availqty) > (SELECT sum(ps_supplycost * ps_availqty) * 0.05
                                                                 FROM partsupp, supplier, nation
                                                                WHERE ps_suppkey = s_suppkey AND s_nationkey = n_nationkey
                                                                  AND n_name = 'GERMANY')"""),
            Shape.of("tpch_q12", """
                    SELECT l_shipmode,
                           sum(CASE WHEN o_orderpriority = '1-URGENT' OR o_orderpriority = '2-HIGH' THEN 1 ELSE 0 END)
                               AS high_line_count,
                           sum(CASE WHEN o_orderpriority <> '1-URGENT' AND o_orderpriority <> '2-HIGH' THEN 1 ELSE 0 END)
                               AS low_line_count
                      FROM orders, lineitem
                     WHERE o_orderkey = l_orderkey AND l_shipmode IN ('MAIL', 'SHIP') AND l_commitdate < l_receiptdate
                       AND l_shipdate < l_commitdate AND l_receiptdate >= date '1994-01-01'
                       AND l_receiptdate < date '1995-01-01'
                     GROUP BY l_shipmode"""),
            Shape.of("tpch_q13", """
                    SELECT c_count, count(*) AS custdist
                      FROM (SELECT c_custkey, count(o_orderkey)
                              FROM customer LEFT OUTER JOIN orders
                                ON c_custkey = o_custkey AND o_comment NOT LIKE '%special%requests%'
                             GROUP BY c_custkey) AS c_orders (c_custkey, c_count)
                     GROUP BY c_count"""),
            Shape.of("tpch_q14", """
                    SELECT 100.00 * sum(CASE WHEN p_type LIKE 'PROMO%' THEN l_extendedprice * (1 - l_discount) ELSE 0 END)
                           / sum(l_extendedprice * (1 - l_discount)) AS promo_revenue
                      FROM lineitem, part
                     WHERE l_partkey = p_partkey AND l_shipdate >= date '1995-09-01' AND l_shipdate < date '1995-10-01'"""),
            // The specification's view revenue0 as a CTE.
            Shape.of("tpch_q15", """
                    WITH revenue0 AS (SELECT l_suppkey AS supplier_no, sum(l_extendedprice * (1 - l_discount)) AS total_revenue
                                        FROM lineitem
                                       WHERE l_shipdate >= date '1996-01-01' AND l_shipdate < date '1996-04-01'
                                       GROUP BY l_suppkey)
                    SELECT s_suppkey, s_name, s_address, s_phone, total_revenue
                      FROM supplier, revenue0
                     WHERE s_suppkey = supplier_no AND total_revenue = (SELECT max(total_revenue) FROM revenue0)"""),
            Shape.of("tpch_q16", """
                    SELECT p_brand, p_type, p_size, count(DISTINCT ps_suppkey) AS supplier_cnt
                      FROM partsupp, part
                     WHERE p_partkey = ps_partkey AND p_brand <> 'Brand#45' AND p_type NOT LIKE 'MEDIUM POLISHED%'
                       AND p_size IN (49, 14, 23, 45, 19, 3, 36, 9)
                       AND ps_suppkey NOT IN (SELECT s_suppkey FROM supplier WHERE s_comment LIKE '%Customer%Complaints%')
                     GROUP BY p_brand, p_type, p_size"""),
            Shape.of("tpch_q17", """
                    SELECT sum(l_extendedprice) / 7.0 AS avg_yearly
                      FROM lineitem, part
                     WHERE p_partkey = l_partkey AND p_brand = 'Brand#23' AND p_container = 'MED BOX'
                       AND l_quantity < (SELECT 0.2 * avg(l_quantity) FROM lineitem WHERE l_partkey = p_partkey)"""),
            // The quantity is scaled to the data: orders here have at most seven lines.
            Shape.of("tpch_q18", """
                    SELECT c_name, c_custkey, o_orderkey, o_orderdate, o_totalprice, sum(l_quantity) AS total_quantity
                      FROM customer, orders, lineitem
                     WHERE o_orderkey IN (SELECT l_orderkey FROM lineitem GROUP BY l_orderkey HAVING sum(l_quantity) > 150)
                       AND c_custkey = o_custkey AND o_orderkey = l_orderkey
                     GROUP BY c_name, c_custkey, o_orderkey, o_orderdate, o_totalprice"""),
            Shape.of("tpch_q19", """
                    SELECT sum(l_extendedprice * (1 - l_discount)) AS revenue
                      FROM lineitem, part
                     WHERE (p_partkey = l_partkey AND p_brand = 'Brand#12'
                            AND p_container IN ('SM CASE', 'SM BOX', 'SM PACK', 'SM PKG')
                            AND l_quantity >= 1 AND l_quantity <= 1 + 10 AND p_size BETWEEN 1 AND 5
                            AND l_shipmode IN ('AIR', 'AIR REG') AND l_shipinstruct = 'DELIVER IN PERSON')
                        OR (p_partkey = l_partkey AND p_brand = 'Brand#23'
                            AND p_container IN ('MED BAG', 'MED BOX', 'MED PKG', 'MED PACK')
                            AND l_quantity >= 10 AND l_quantity <= 10 + 10 AND p_size BETWEEN 1 AND 10
                            AND l_shipmode IN ('AIR', 'AIR REG') AND l_shipinstruct = 'DELIVER IN PERSON')
                        OR (p_partkey = l_partkey AND p_brand = 'Brand#34'
                            AND p_container IN ('LG CASE', 'LG BOX', 'LG PACK', 'LG PKG')
                            AND l_quantity >= 20 AND l_quantity <= 20 + 10 AND p_size BETWEEN 1 AND 15
                            AND l_shipmode IN ('AIR', 'AIR REG') AND l_shipinstruct = 'DELIVER IN PERSON')"""),
            Shape.of("tpch_q20", """
                    SELECT s_name, s_address
                      FROM supplier, nation
                     WHERE s_suppkey IN (SELECT ps_suppkey FROM partsupp
                                          WHERE ps_partkey IN (SELECT p_partkey FROM part WHERE p_name LIKE 'forest%')
                                            AND ps_availqty > (SELECT 0.5 * sum(l_quantity) FROM lineitem
                                                                WHERE l_partkey = ps_partkey AND l_suppkey = ps_suppkey
                                                                  AND l_shipdate >= date '1994-01-01'
                                                                  AND l_shipdate < date '1995-01-01'))
                       AND s_nationkey = n_nationkey AND n_name = 'CANADA'"""),
            Shape.of("tpch_q21", """
                    SELECT s_name, count(*) AS numwait
                      FROM supplier, lineitem l1, orders, nation
                     WHERE s_suppkey = l1.l_suppkey AND o_orderkey = l1.l_orderkey AND o_orderstatus = 'F'
                       AND l1.l_receiptdate > l1.l_commitdate
                       AND EXISTS (SELECT * FROM lineitem l2 WHERE l2.l_orderkey = l1.l_orderkey
                                      AND l2.l_suppkey <> l1.l_suppkey)
                       AND NOT EXISTS (SELECT * FROM lineitem l3 WHERE l3.l_orderkey = l1.l_orderkey
                                          AND l3.l_suppkey <> l1.l_suppkey AND l3.l_receiptdate > l3.l_commitdate)
                       AND s_nationkey = n_nationkey AND n_name = 'SAUDI ARABIA'
                     GROUP BY s_name"""),
            Shape.of("tpch_q22", """
                    SELECT cntrycode, count(*) AS numcust, sum(c_acctbal) AS totacctbal
                      FROM (SELECT substring(c_phone FROM 1 FOR 2) AS cntrycode, c_acctbal
                              FROM customer
                             WHERE substring(c_phone FROM 1 FOR 2) IN ('13', '31', '23', '29', '30', '18', '17')
                               AND c_acctbal > (SELECT avg(c_acctbal) FROM customer WHERE c_acctbal > 0.00
                                                  AND substring(c_phone FROM 1 FOR 2)
                                                      IN ('13', '31', '23', '29', '30', '18', '17'))
                               AND NOT EXISTS (SELECT * FROM orders WHERE o_custkey = c_custkey)) AS custsale
                     GROUP BY cntrycode"""));

    /** Suppliers of each part, fixed by {@link #seed}: lineitems name a (part, supplier) of partsupp. */
    private volatile int[][] suppliersOfPart;
    private final AtomicInteger nextOrderKey = new AtomicInteger();

    @Override
    public String name() {
        return "tpch";
    }

    @Override
    public List<String> schema() {
        return List.of(
                "CREATE TABLE region (r_regionkey integer PRIMARY KEY, r_name char(25) NOT NULL, r_comment varchar(152))",
                "CREATE TABLE nation (n_nationkey integer PRIMARY KEY, n_name char(25) NOT NULL,"
                        + " n_regionkey integer NOT NULL, n_comment varchar(152))",
                "CREATE TABLE part (p_partkey integer PRIMARY KEY, p_name varchar(55) NOT NULL, p_mfgr char(25) NOT NULL,"
                        + " p_brand char(10) NOT NULL, p_type varchar(25) NOT NULL, p_size integer NOT NULL,"
                        + " p_container char(10) NOT NULL, p_retailprice numeric(15,2) NOT NULL, p_comment varchar(23) NOT NULL)",
                "CREATE TABLE supplier (s_suppkey integer PRIMARY KEY, s_name char(25) NOT NULL, s_address varchar(40) NOT NULL,"
                        + " s_nationkey integer NOT NULL, s_phone char(15) NOT NULL, s_acctbal numeric(15,2) NOT NULL,"
                        + " s_comment varchar(101) NOT NULL)",
                "CREATE TABLE partsupp (ps_partkey integer NOT NULL, ps_suppkey integer NOT NULL, ps_availqty integer NOT NULL,"
                        + " ps_supplycost numeric(15,2) NOT NULL, ps_comment varchar(199) NOT NULL,"
                        + " PRIMARY KEY (ps_partkey, ps_suppkey))",
                "CREATE TABLE customer (c_custkey integer PRIMARY KEY, c_name varchar(25) NOT NULL, c_address varchar(40) NOT NULL,"
                        + " c_nationkey integer NOT NULL, c_phone char(15) NOT NULL, c_acctbal numeric(15,2) NOT NULL,"
                        + " c_mktsegment char(10) NOT NULL, c_comment varchar(117) NOT NULL)",
                "CREATE TABLE orders (o_orderkey integer PRIMARY KEY, o_custkey integer NOT NULL, o_orderstatus char(1) NOT NULL,"
                        + " o_totalprice numeric(15,2) NOT NULL, o_orderdate date NOT NULL, o_orderpriority char(15) NOT NULL,"
                        + " o_clerk char(15) NOT NULL, o_shippriority integer NOT NULL, o_comment varchar(79) NOT NULL)",
                "CREATE TABLE lineitem (l_orderkey integer NOT NULL, l_partkey integer NOT NULL, l_suppkey integer NOT NULL,"
                        + " l_linenumber integer NOT NULL, l_quantity numeric(15,2) NOT NULL,"
                        + " l_extendedprice numeric(15,2) NOT NULL, l_discount numeric(15,2) NOT NULL,"
                        + " l_tax numeric(15,2) NOT NULL, l_returnflag char(1) NOT NULL, l_linestatus char(1) NOT NULL,"
                        + " l_shipdate date NOT NULL, l_commitdate date NOT NULL, l_receiptdate date NOT NULL,"
                        + " l_shipinstruct char(25) NOT NULL, l_shipmode char(10) NOT NULL, l_comment varchar(44) NOT NULL,"
                        + " PRIMARY KEY (l_orderkey, l_linenumber))");
    }

    @Override
    public List<String> tables() {
        return List.of("lineitem", "orders", "partsupp", "customer", "supplier", "part", "nation", "region");
    }

    @Override
    public List<String> seed(Random random) {
        List<String> sql = new ArrayList<>();
        List<String> rows = new ArrayList<>();
        for (int r = 0; r < REGIONS.length; r++) {
            rows.add("(" + r + ", '" + REGIONS[r] + "', '" + comment(random) + "')");
        }
        sql.add("INSERT INTO region VALUES " + String.join(", ", rows));
        rows.clear();
        for (int n = 0; n < NATIONS.length; n++) {
            rows.add("(" + n + ", '" + NATIONS[n][0] + "', " + NATIONS[n][1] + ", '" + comment(random) + "')");
        }
        sql.add("INSERT INTO nation VALUES " + String.join(", ", rows));
        rows.clear();
        for (int p = 1; p <= PARTS; p++) {
            rows.add(partRow(random, p));
        }
        sql.add("INSERT INTO part VALUES " + String.join(", ", rows));
        rows.clear();
        for (int s = 1; s <= SUPPLIERS; s++) {
            int nation = nation(random);
            rows.add("(" + s + ", 'Supplier#" + s + "', '" + address(random) + "', " + nation + ", '" + phone(random, nation)
                    + "', " + acctbal(random) + ", '" + supplierComment(random) + "')");
        }
        sql.add("INSERT INTO supplier VALUES " + String.join(", ", rows));
        rows.clear();
        int[][] suppliers = new int[PARTS + 1][];
        for (int p = 1; p <= PARTS; p++) {
            suppliers[p] = distinctSuppliers(random);
            for (int s : suppliers[p]) {
                rows.add("(" + p + ", " + s + ", " + (1 + random.nextInt(9999)) + ", " + money(random, 1, 1000) + ", '"
                        + comment(random) + "')");
            }
        }
        suppliersOfPart = suppliers;
        sql.add("INSERT INTO partsupp VALUES " + String.join(", ", rows));
        rows.clear();
        for (int c = 1; c <= CUSTOMERS; c++) {
            int nation = nation(random);
            rows.add("(" + c + ", 'Customer#" + c + "', '" + address(random) + "', " + nation + ", '" + phone(random, nation)
                    + "', " + acctbal(random) + ", '" + SEGMENTS[random.nextInt(SEGMENTS.length)] + "', '"
                    + comment(random) + "')");
        }
        sql.add("INSERT INTO customer VALUES " + String.join(", ", rows));
        for (int o = 1; o <= SEED_ORDERS; o++) {
            sql.addAll(newOrder(random, o));
        }
        nextOrderKey.set(SEED_ORDERS + 1);
        return sql;
    }

    @Override
    public Batch randomBatch(Random random) {
        int size = 1 + random.nextInt(6);
        List<String> batch = new ArrayList<>();
        for (int i = 0; i < size; i++) {
            batch.addAll(randomChange(random));
        }
        return new Batch(batch, random.nextInt(3) != 0);
    }

    @Override
    public List<Shape> shapes() {
        return SHAPES;
    }

    private List<String> randomChange(Random random) {
        int order = 1 + random.nextInt(Math.max(1, nextOrderKey.get() - 1));
        int line = 1 + random.nextInt(7);
        String oneLine = " WHERE l_orderkey = " + order + " AND l_linenumber = " + line;
        return switch (random.nextInt(16)) {
            case 0, 1, 2 -> newOrder(random, nextOrderKey.getAndIncrement());
            case 3, 4 -> List.of("DELETE FROM lineitem WHERE l_orderkey = " + order, "DELETE FROM orders WHERE o_orderkey = " + order);
            case 5 -> List.of("UPDATE lineitem SET l_quantity = " + (1 + random.nextInt(50)) + ", l_extendedprice = "
                    + money(random, 900, 100000) + oneLine);
            case 6 -> List.of("UPDATE lineitem SET l_discount = " + cents(random.nextInt(11)) + ", l_tax = "
                    + cents(random.nextInt(9)) + oneLine);
            case 7 -> List.of("UPDATE lineitem SET l_returnflag = '" + "RAN".charAt(random.nextInt(3)) + "', l_linestatus = '"
                    + "OF".charAt(random.nextInt(2)) + "'" + oneLine);
            case 8 -> List.of("UPDATE lineitem SET l_shipdate = l_shipdate + " + (random.nextInt(61) - 30)
                    + ", l_receiptdate = l_receiptdate + " + (random.nextInt(61) - 30) + ", l_shipmode = '"
                    + SHIP_MODES[random.nextInt(SHIP_MODES.length)] + "'" + oneLine);
            case 9 -> List.of("DELETE FROM lineitem" + oneLine);
            case 10 -> List.of("UPDATE orders SET o_orderstatus = '" + "FOP".charAt(random.nextInt(3)) + "', o_orderpriority = '"
                    + PRIORITIES[random.nextInt(PRIORITIES.length)] + "', o_orderdate = o_orderdate + "
                    + (random.nextInt(121) - 60) + " WHERE o_orderkey = " + order);
            case 11 -> List.of("UPDATE orders SET o_custkey = " + (1 + random.nextInt(CUSTOMERS)) + ", o_comment = '"
                    + comment(random) + "' WHERE o_orderkey = " + order);
            case 12 -> {
                int nation = nation(random);
                yield List.of("UPDATE customer SET c_acctbal = " + acctbal(random) + ", c_mktsegment = '"
                        + SEGMENTS[random.nextInt(SEGMENTS.length)] + "', c_nationkey = " + nation + ", c_phone = '"
                        + phone(random, nation) + "' WHERE c_custkey = " + (1 + random.nextInt(CUSTOMERS)));
            }
            case 13 -> List.of("UPDATE supplier SET s_acctbal = " + acctbal(random) + ", s_nationkey = " + nation(random)
                    + ", s_comment = '" + supplierComment(random) + "' WHERE s_suppkey = " + (1 + random.nextInt(SUPPLIERS)));
            case 14 -> {
                int part = 1 + random.nextInt(PARTS);
                yield List.of("UPDATE part SET p_retailprice = " + money(random, 900, 2000) + ", p_brand = '"
                        + BRANDS[random.nextInt(BRANDS.length)] + "', p_container = '" + CONTAINERS[random.nextInt(CONTAINERS.length)]
                        + "', p_size = " + SIZES[random.nextInt(SIZES.length)] + " WHERE p_partkey = " + part);
            }
            default -> {
                int part = 1 + random.nextInt(PARTS);
                int[] suppliers = suppliersOfPart[part];
                yield List.of("UPDATE partsupp SET ps_supplycost = " + money(random, 1, 1000) + ", ps_availqty = "
                        + (1 + random.nextInt(9999)) + " WHERE ps_partkey = " + part + " AND ps_suppkey = "
                        + suppliers[random.nextInt(suppliers.length)]);
            }
        };
    }

    /** An order and its one to seven lineitems; status and total follow from the lines, as in dbgen. */
    private List<String> newOrder(Random random, int key) {
        LocalDate ordered = FIRST_ORDER_DATE.plusDays(random.nextInt(ORDER_DATE_SPAN_DAYS));
        LocalDate statusDate = LocalDate.of(1995, 6, 17);
        int lines = 1 + random.nextInt(7);
        List<String> rows = new ArrayList<>();
        long total = 0;
        int shipped = 0;
        for (int l = 1; l <= lines; l++) {
            int part = 1 + random.nextInt(PARTS);
            int[] suppliers = suppliersOfPart[part];
            int quantity = 1 + random.nextInt(50);
            long price = quantity * (90_000L + part * 100L + random.nextInt(100)); // cents
            total += price;
            LocalDate ship = ordered.plusDays(1 + random.nextInt(121));
            LocalDate commit = ordered.plusDays(30 + random.nextInt(61));
            LocalDate receipt = ship.plusDays(1 + random.nextInt(30));
            boolean done = !ship.isAfter(statusDate);
            shipped += done ? 1 : 0;
            char flag = receipt.isAfter(statusDate) ? 'N' : random.nextBoolean() ? 'R' : 'A';
            rows.add("(" + key + ", " + part + ", " + suppliers[random.nextInt(suppliers.length)] + ", " + l + ", " + quantity
                    + ", " + cents(price) + ", " + cents(random.nextInt(11)) + ", " + cents(random.nextInt(9)) + ", '" + flag + "', '"
                    + (done ? 'F' : 'O') + "', date '" + ship + "', date '" + commit + "', date '" + receipt + "', '"
                    + INSTRUCTIONS[random.nextInt(INSTRUCTIONS.length)] + "', '" + SHIP_MODES[random.nextInt(SHIP_MODES.length)]
                    + "', '" + comment(random) + "')");
        }
        char status = shipped == lines ? 'F' : shipped == 0 ? 'O' : 'P';
        // As in dbgen, customers whose key is a multiple of three place no orders (Q13 and Q22 need some).
        int customer;
        do {
            customer = 1 + random.nextInt(CUSTOMERS);
        } while (customer % 3 == 0);
        return List.of("INSERT INTO orders VALUES (" + key + ", " + customer + ", '" + status + "', " + cents(total) + ", date '"
                        + ordered + "', '" + PRIORITIES[random.nextInt(PRIORITIES.length)] + "', 'Clerk#" + random.nextInt(20)
                        + "', 0, '" + comment(random) + "')",
                "INSERT INTO lineitem VALUES " + String.join(", ", rows));
    }

    private static String partRow(Random random, int key) {
        String name = COLORS[random.nextInt(COLORS.length)] + " " + COLORS[random.nextInt(COLORS.length)] + " "
                + COLORS[random.nextInt(COLORS.length)];
        int mfgr = 1 + random.nextInt(5);
        return "(" + key + ", '" + name + "', 'Manufacturer#" + mfgr + "', '" + BRANDS[random.nextInt(BRANDS.length)] + "', '"
                + TYPES[random.nextInt(TYPES.length)] + "', " + SIZES[random.nextInt(SIZES.length)] + ", '"
                + CONTAINERS[random.nextInt(CONTAINERS.length)] + "', " + money(random, 900, 2000) + ", 'part " + key + "')";
    }

    private static int[] distinctSuppliers(Random random) {
        int[] out = new int[SUPPLIERS_PER_PART];
        int first = random.nextInt(SUPPLIERS);
        int step = 1 + random.nextInt(SUPPLIERS / SUPPLIERS_PER_PART);
        for (int i = 0; i < out.length; i++) {
            out[i] = (first + i * step) % SUPPLIERS + 1;
        }
        return out;
    }

    /** Mostly the nations the queries name, so their joins and filters keep rows. */
    private static int nation(Random random) {
        return random.nextInt(6) == 0 ? random.nextInt(NATIONS.length) : HOT_NATIONS[random.nextInt(HOT_NATIONS.length)];
    }

    /** TPC-H phones start with the country code, nation key + 10 (Q22 reads it). */
    private static String phone(Random random, int nation) {
        return (nation + 10) + "-" + (100 + random.nextInt(900)) + "-" + (100 + random.nextInt(900)) + "-"
                + (1000 + random.nextInt(9000));
    }

    /** Between -999.99 and 9999.99, as in dbgen: Q22 compares balances with zero. */
    private static String acctbal(Random random) {
        return cents(random.nextInt(1_100_000) - 99_999);
    }

    private static String money(Random random, int low, int high) {
        return cents(low * 100L + random.nextInt((high - low) * 100));
    }

    private static String cents(long cents) {
        return BigDecimal.valueOf(cents, 2).toPlainString();
    }

    private static String address(Random random) {
        return "addr " + random.nextInt(1000);
    }

    private static String comment(Random random) {
        return COMMENTS[random.nextInt(COMMENTS.length)];
    }

    /** Some suppliers have complaints on file (Q16 leaves them out). */
    private static String supplierComment(Random random) {
        return random.nextInt(4) == 0 ? "Customer slow Complaints" : comment(random);
    }
}
