package io.pgtrickle.core.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.pgtrickle.core.PgTrickleEngine;
import io.pgtrickle.testing.PostgresExtension;
import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;
import org.postgresql.util.PSQLException;

/**
 * DESIGN §3, "polling never skips": writers of three stream tables commit outbox entries out of
 * offset order (each table's offsets drawn under its writer lock, but the tables interleave; a
 * writer holds its transaction open while later offsets of the other tables commit; writers take
 * their xid before the lock, so xid order and offset order differ; some roll back, leaving gaps),
 * while a consumer per group (two sharing one group) polls and commits in a loop. Every committed
 * entry arrives exactly once, in offset order per stream table.
 *
 * <p>Randomized with a reproducible seed: {@code -Dpgtrickle.neverskip.seed=N} repeats a run's
 * choices (thread timing still varies).
 */
@ExtendWith(PostgresExtension.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
class PollNeverSkipsIT {
    private static final long SEED = Long.getLong("pgtrickle.neverskip.seed", 20_261_203L);
    private static final String[] TABLES = {"st_a", "st_b", "st_c"};
    private static final int WRITERS_PER_TABLE = 2;
    private static final int TRANSACTIONS_PER_WRITER = 30;

    private final TestDatabase db;

    PollNeverSkipsIT(TestDatabase db) {
        this.db = db;
    }

    /** An entry a writer committed, with the position of its commit among all writers' commits. */
    private record Written(String table, long offset, int commitSequence) {
    }

    /** Offsets one consumer committed in one batch. */
    private record Batch(String consumer, List<Long> offsets) {
    }

    @Test
    void everyCommittedEntryArrivesOnceInOffsetOrderWhileWritersCommitOutOfOrder() throws Exception {
        System.out.println("PollNeverSkipsIT seed " + SEED);
        try (PgTrickleEngine engine = OutboxFixture.engine(db)) {
            OutboxFixture.streamTablesWithOutboxes(engine, db, 24, TABLES);
        }
        db.execute("DROP TABLE IF EXISTS noise", "CREATE TABLE noise (n int)");
        Map<String, String> groupOf = Map.of("st_a", "ga", "st_b", "gb", "st_c", "gc");
        groupOf.forEach((table, group) -> db.execute("SELECT pgtrickle.create_consumer_group('" + group + "', '"
                + table + "', 'earliest')"));

        List<Written> written = new CopyOnWriteArrayList<>();
        Map<String, List<Batch>> committed = new ConcurrentHashMap<>();
        AtomicInteger commits = new AtomicInteger();
        AtomicInteger heldOpen = new AtomicInteger();
        AtomicBoolean writersDone = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(TABLES.length * WRITERS_PER_TABLE + 4);
        try {
            List<Future<?>> writers = new ArrayList<>();
            int w = 0;
            for (String table : TABLES) {
                for (int i = 0; i < WRITERS_PER_TABLE; i++) {
                    Random random = new Random(SEED + 31L * w++);
                    boolean holder = i == 0;
                    writers.add(pool.submit(() -> write(table, random, holder, written, commits, heldOpen)));
                }
            }
            List<Future<?>> consumers = new ArrayList<>();
            int c = 0;
            for (String[] member : new String[][] {{"ga", "a1"}, {"gb", "b1"}, {"gb", "b2"}, {"gc", "c1"}}) {
                Random random = new Random(SEED - 17L * ++c);
                consumers.add(pool.submit(() -> consume(member[0], member[1], random, committed, stop)));
            }
            for (Future<?> f : writers) {
                f.get(2, TimeUnit.MINUTES);
            }
            writersDone.set(true);
            Map<String, Long> newest = new TreeMap<>();
            written.forEach(x -> newest.merge(groupOf.get(x.table()), x.offset(), Math::max));
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> newest.entrySet()
                    .stream().allMatch(e -> committedOffset(e.getKey()) == e.getValue()));
            stop.set(true);
            for (Future<?> f : consumers) {
                f.get(30, TimeUnit.SECONDS);
            }
        } finally {
            stop.set(true);
            pool.shutdownNow();
        }

        // The run provoked what it is about: commits out of offset order, and transactions held open.
        List<Written> byCommit = new ArrayList<>(written);
        byCommit.sort(Comparator.comparingInt(Written::commitSequence));
        long inversions = 0;
        long highest = Long.MIN_VALUE;
        for (Written x : byCommit) {
            if (x.offset() < highest) {
                inversions++;
            }
            highest = Math.max(highest, x.offset());
        }
        assertThat(inversions).as("entries committed after a higher offset had committed").isGreaterThan(10);
        assertThat(heldOpen.get()).as("transactions held open while other tables committed").isGreaterThanOrEqualTo(3);

        for (String table : TABLES) {
            String group = groupOf.get(table);
            List<Long> expected = written.stream().filter(x -> x.table().equals(table)).map(Written::offset).sorted().toList();
            List<Batch> batches = new ArrayList<>(committed.getOrDefault(group, List.of()));
            batches.sort(Comparator.comparingLong(b -> b.offsets().get(0)));
            List<Long> delivered = batches.stream().flatMap(b -> b.offsets().stream()).toList();
            assertThat(delivered).as("%s: every committed entry once, in offset order", table).isEqualTo(expected);
            for (Batch b : batches) {
                assertThat(b.offsets()).as("a batch of %s is in offset order", group).isSorted();
            }
            assertThat(expected).hasSizeGreaterThan(WRITERS_PER_TABLE * TRANSACTIONS_PER_WRITER / 2);
        }
        assertThat(committed.get("gb")).extracting(Batch::consumer).as("both members of gb took turns")
                .contains("b1", "b2");
    }

    /**
     * One writer: per transaction, an unrelated write first (the transaction's xid, as a refresh's
     * MERGE takes it before the outbox lock), then the entry under the stream table's writer lock;
     * then it holds the transaction open for a while (the holder, every tenth time, for long) and
     * commits, or rolls back one time in ten.
     */
    private void write(String table, Random random, boolean holder, List<Written> written, AtomicInteger commits,
                       AtomicInteger heldOpen) {
        try (Connection c = db.connect()) {
            c.setAutoCommit(false);
            for (int t = 0; t < TRANSACTIONS_PER_WRITER; t++) {
                try (Statement s = c.createStatement()) {
                    s.execute("INSERT INTO noise VALUES (" + t + ")");
                }
                sleep(random.nextInt(4));
                long offset = OutboxFixture.write(c, table, 1 + random.nextInt(4), null);
                boolean longHold = holder && t % 10 == 5;
                sleep(longHold ? 400 + random.nextInt(200) : random.nextInt(12));
                if (random.nextInt(10) == 0) {
                    c.rollback();
                    continue;
                }
                if (longHold) {
                    heldOpen.incrementAndGet();
                }
                c.commit();
                written.add(new Written(table, offset, commits.incrementAndGet()));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("writer of " + table + " failed: " + e.getMessage(), e);
        }
    }

    /** A member's loop: poll a batch of random size, commit it, note it; refused commits are not noted. */
    private void consume(String group, String consumer, Random random, Map<String, List<Batch>> committed,
                         AtomicBoolean stop) {
        try (Connection c = db.connect()) {
            while (!stop.get()) {
                List<Long> offsets = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement("SELECT outbox_offset FROM pgtrickle.poll_outbox(?, ?, ?, 30)")) {
                    ps.setString(1, group);
                    ps.setString(2, consumer);
                    ps.setInt(3, 1 + random.nextInt(6));
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            offsets.add(rs.getLong(1));
                        }
                    }
                }
                if (offsets.isEmpty()) {
                    sleep(3 + random.nextInt(5));
                    continue;
                }
                sleep(random.nextInt(3));   // "processing"
                try (PreparedStatement ps = c.prepareStatement("SELECT pgtrickle.commit_offset(?, ?, ?)")) {
                    ps.setString(1, group);
                    ps.setString(2, consumer);
                    ps.setLong(3, offsets.get(offsets.size() - 1));
                    ps.execute();
                } catch (PSQLException e) {
                    if ("55000".equals(e.getSQLState())) {
                        continue;   // lease lost: the entries are offered again
                    }
                    throw e;
                }
                committed.computeIfAbsent(group, k -> Collections.synchronizedList(new ArrayList<>()))
                        .add(new Batch(consumer, List.copyOf(offsets)));
                // The other member of a shared group gets its turn now and then.
                if (random.nextInt(3) == 0) {
                    sleep(10);
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException(consumer + " of " + group + " failed: " + e.getMessage(), e);
        }
    }

    private long committedOffset(String group) {
        return ((Number) db.value("SELECT committed_offset FROM pgtrickle.pgt_consumer_groups WHERE group_name = ?", group))
                .longValue();
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }
}
