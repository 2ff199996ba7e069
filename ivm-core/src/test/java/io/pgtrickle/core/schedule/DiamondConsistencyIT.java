package io.pgtrickle.core.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgtrickle.core.EngineFixture;
import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.core.catalog.Catalog;
import io.pgtrickle.core.lifecycle.StreamTableSpec;
import io.pgtrickle.core.lifecycle.StreamTables;
import io.pgtrickle.core.refresh.Refresher;
import io.pgtrickle.core.sql.QualifiedName;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Diamonds over a ledger of balanced transfers (every transaction moves an amount from one bucket
 * to another, so all buckets sum to zero at every commit): branches sum disjoint sets of buckets,
 * the sink adds the branches up. A sink reading branches refreshed at different snapshots can see
 * a non-zero total; with diamond_consistency 'atomic' the branches refresh together, and the sink
 * is zero and equal to its query after every tick, whatever the DAG's shape (random, seeded) and
 * with writers committing throughout.
 */
@ExtendWith(PostgresExtension.class)
class DiamondConsistencyIT {
    private final TestDatabase db;
    private PgTrickleEngine engine;
    private StreamTables api;

    DiamondConsistencyIT(TestDatabase db) {
        this.db = db;
    }

    @BeforeEach
    void setUp() {
        engine = EngineFixture.open(db);
        api = engine.streamTables();
        EngineFixture.dropAllStreamTables(api);
        db.execute("DROP TABLE IF EXISTS ledger CASCADE",
                "CREATE TABLE ledger (id bigserial PRIMARY KEY, bucket int NOT NULL, amount int NOT NULL)",
                "INSERT INTO ledger (bucket, amount) SELECT b, a FROM generate_series(1, 20) g,"
                        + " LATERAL (VALUES (g % 6, g), ((g * 5 + 1) % 6, -g)) t(b, a)"); // balanced: sums to zero
    }

    @AfterEach
    void tearDown() {
        engine.close();
    }

    private Scheduler scheduler(int maxConcurrent) {
        Catalog catalog = new Catalog();
        return new Scheduler(engine.dataSource(), catalog, new Refresher(engine.dataSource(), catalog,
                EngineFixture.config(db).retryPolicy(), engine.capture(), engine.serverCapabilities()),
                Duration.ofHours(1), maxConcurrent);
    }

    private static void transfer(Connection c, Random random) throws SQLException {
        int amount = 1 + random.nextInt(100);
        int from = random.nextInt(6);
        int to = random.nextInt(6);
        try (Statement s = c.createStatement()) {
            s.execute("INSERT INTO ledger (bucket, amount) VALUES (" + from + ", " + (-amount) + "), (" + to + ", " + amount + ")");
        }
    }

    private Object value(String sql) {
        return db.value(sql);
    }

    @Test
    void withoutAtomicConsistencyASinkCanReadBranchesOfDifferentSnapshots() throws Exception {
        api.create(StreamTableSpec.parse("dn_low", "SELECT sum(amount) AS s FROM ledger WHERE bucket < 3", "1h", null));
        api.create(StreamTableSpec.parse("dn_high", "SELECT sum(amount) AS s FROM ledger WHERE bucket >= 3", "1h", null));
        api.create(StreamTableSpec.parse("dn_sink", "SELECT l.s + h.s AS total FROM dn_low l, dn_high h", "1h", null));
        try (Connection c = db.connect()) {
            api.refresh(QualifiedName.parse("dn_low"));
            c.createStatement().execute("INSERT INTO ledger (bucket, amount) VALUES (0, -5), (4, 5)");
            api.refresh(QualifiedName.parse("dn_high"));
            api.refresh(QualifiedName.parse("dn_sink"));
        }
        assertThat(value("SELECT total FROM dn_sink")).as("the hazard atomic consistency removes").hasToString("5");
    }

    @Test
    void diamondGroupsShowsEachSinksLinkedBranchesAndRefusesAtomicWhenABranchReadsAnother() {
        api.create(StreamTableSpec.parse("dg_a", "SELECT bucket, sum(amount) AS s FROM ledger GROUP BY bucket", "1h", null));
        api.create(StreamTableSpec.parse("dg_b", "SELECT count(*) AS n FROM ledger", "1h", null));
        api.create(StreamTableSpec.parse("dg_c", "SELECT sum(s) AS s FROM dg_a", "1h", null)); // reads dg_a
        api.create(StreamTableSpec.parse("dg_sink", "SELECT b.n, c.s FROM dg_b b, dg_c c", "1h", null));
        api.create(StreamTableSpec.parse("dg_bad", "SELECT a.bucket, c.s FROM dg_a a, dg_c c", "1h", null));

        try (Connection c = db.connect(); Statement s = c.createStatement(); ResultSet rs = s.executeQuery(
                "SELECT sink, consistency, array_to_string(members, ','), array_to_string(shared_sources, ','), supported"
                        + " FROM pgtrickle.diamond_groups() ORDER BY sink")) {
            List<String> rows = new ArrayList<>();
            while (rs.next()) {
                rows.add(rs.getString(1) + " " + rs.getString(2) + " [" + rs.getString(3) + "] via [" + rs.getString(4)
                        + "] " + rs.getBoolean(5));
            }
            assertThat(rows).containsExactly(
                    "public.dg_bad none [public.dg_a,public.dg_c] via [ledger] false",
                    "public.dg_sink none [public.dg_b,public.dg_c] via [ledger] true");
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        api.setDiamondConsistency(QualifiedName.parse("dg_sink"), "atomic");
        assertThat(value("SELECT consistency FROM pgtrickle.diamond_groups() WHERE sink = 'public.dg_sink'")).isEqualTo("atomic");
        assertThatThrownBy(() -> api.setDiamondConsistency(QualifiedName.parse("dg_bad"), "atomic"))
                .hasMessageContaining("cannot hold: branch public.dg_c reads branch public.dg_a");
        assertThat(value("SELECT diamond_consistency FROM pgtrickle.pgt_stream_tables WHERE pgt_name = 'dg_bad'"))
                .as("the refused setting changed nothing").isEqualTo("none");
        assertThatThrownBy(() -> api.setDiamondConsistency(QualifiedName.parse("dg_sink"), "eventually"))
                .hasMessageContaining("invalid diamond consistency \"eventually\"");
    }

    @Test
    void atomicSinksOfRandomDiamondsAreBalancedAndExactAfterEveryTickWhileWritersCommit() throws Exception {
        long seed = Long.getLong("pgtrickle.seed", 20261216L);
        Random random = new Random(seed);
        int branches = 2 + random.nextInt(3);
        // buckets 0..5 dealt to the branches, each at least one
        List<List<Integer>> dealt = new ArrayList<>();
        IntStream.range(0, branches).forEach(i -> dealt.add(new ArrayList<>(List.of(i))));
        for (int b = branches; b < 6; b++) {
            dealt.get(random.nextInt(branches)).add(b);
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < branches; i++) {
            String in = dealt.get(i).stream().map(String::valueOf).collect(Collectors.joining(", "));
            String name = "rd_branch_" + i;
            String schedule = random.nextBoolean() ? "100ms" : "300ms"; // the group refreshes at the fastest
            api.create(StreamTableSpec.parse(name, random.nextBoolean()
                    ? "SELECT coalesce(sum(amount), 0) AS s FROM ledger WHERE bucket IN (" + in + ")"
                    : "SELECT bucket, sum(amount) AS s FROM ledger WHERE bucket IN (" + in + ") GROUP BY bucket", schedule, null));
            names.add(name);
        }
        String union = names.stream().map(n -> "SELECT s FROM " + n).collect(Collectors.joining(" UNION ALL "));
        String sinkQuery = "SELECT coalesce(sum(s), 0) AS total, count(*) AS parts FROM (" + union + ") u";
        api.create(StreamTableSpec.parse("rd_sink", sinkQuery, "100ms", null));
        api.setDiamondConsistency(QualifiedName.parse("rd_sink"), "atomic");
        String shape = branches + " branches over buckets " + dealt + ", seed " + seed;

        AtomicBoolean writing = new AtomicBoolean(true);
        CompletableFuture<Integer> writer = CompletableFuture.supplyAsync(() -> {
            int n = 0;
            Random w = new Random(seed + 1);
            try (Connection c = db.connect()) {
                while (writing.get()) {
                    transfer(c, w);
                    n++;
                    Thread.sleep(w.nextInt(5));
                }
            } catch (SQLException e) {
                throw new IllegalStateException(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return n;
        });
        Scheduler scheduler = scheduler(1 + random.nextInt(3));
        int ticks = 0;
        try {
            for (; ticks < 15; ticks++) {
                Thread.sleep(120);
                scheduler.runOnce();
                assertThat(value("SELECT total FROM rd_sink")).as("tick " + ticks + ": " + shape).hasToString("0");
                assertThat(value("SELECT count(*) FROM ((SELECT total, parts FROM rd_sink EXCEPT ALL " + sinkQuery + ") UNION ALL ("
                        + sinkQuery + " EXCEPT ALL SELECT total, parts FROM rd_sink)) d")).as("sink equals its query, tick " + ticks
                        + ": " + shape).isEqualTo(0L);
            }
        } finally {
            writing.set(false);
        }
        assertThat(writer.get(20, TimeUnit.SECONDS)).as("transfers committed during the ticks").isGreaterThan(10);
        assertThat(value("SELECT count(*) FROM pgtrickle.pgt_refresh_history WHERE pgt_name = 'rd_branch_0'"
                + " AND trigger = 'SCHEDULE' AND status = 'SUCCESS'")).as("the branches refreshed on schedule")
                .isNotEqualTo(0L);
    }
}
