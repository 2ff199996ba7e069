package io.pgtrickle.core.capture;

import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Writer threads committing continuously to {@code t (id int PRIMARY KEY, grp int, v numeric, note
 * text, at timestamptz)}: inserts (two rows at a time, one of them a duplicate-valued row), updates,
 * key-changing updates and deletes on each writer's own key range, 1–3 statements a transaction.
 * Seeded, so a failing run can be replayed.
 */
final class WriterLoad implements AutoCloseable {
    private final AtomicBoolean running = new AtomicBoolean(true);
    private final AtomicInteger commits = new AtomicInteger();
    private final List<CompletableFuture<Void>> writers = new ArrayList<>();

    WriterLoad(TestDatabase db, int threads, long seed) {
        for (int w = 0; w < threads; w++) {
            int writer = w;
            writers.add(CompletableFuture.runAsync(() -> write(db, writer, new Random(seed + writer))));
        }
    }

    int commits() {
        return commits.get();
    }

    private void write(TestDatabase db, int writer, Random random) {
        int base = writer * 1_000_000;
        int next = 0;
        try (Connection c = db.connect(); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            while (running.get()) {
                int statements = 1 + random.nextInt(3);
                for (int i = 0; i < statements; i++) {
                    int op = random.nextInt(10);
                    if (op < 5 || next < 10) {
                        s.execute("INSERT INTO t VALUES (" + (base + next++) + ", " + random.nextInt(5) + ", "
                                + (random.nextBoolean() ? "NULL" : random.nextInt(10_000) / 100.0) + ", 'w" + writer
                                + "', now()), (" + (base + next++) + ", 1, 1, 'dup', NULL)");
                    } else if (op < 7) {
                        s.execute("UPDATE t SET v = coalesce(v, 0) + 1, grp = grp + 1 WHERE id = "
                                + (base + random.nextInt(next)));
                    } else if (op < 8) {
                        s.execute("UPDATE t SET id = " + (base + next++) + " WHERE id = " + (base + random.nextInt(next)));
                    } else {
                        s.execute("DELETE FROM t WHERE id = " + (base + random.nextInt(next)));
                    }
                }
                c.commit();
                commits.incrementAndGet();
                Thread.sleep(random.nextInt(3));
            }
        } catch (Exception e) {
            throw new IllegalStateException("writer " + writer + " failed", e);
        }
    }

    /** Stops the writers and waits for them; rethrows a writer's failure. */
    @Override
    public void close() throws Exception {
        running.set(false);
        CompletableFuture.allOf(writers.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
    }
}
