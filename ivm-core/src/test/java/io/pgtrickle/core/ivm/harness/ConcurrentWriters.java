package io.pgtrickle.core.ivm.harness;

import io.pgtrickle.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * Writer threads, each on its own connection, committing random batches of a workload (one
 * transaction each) until stopped, while the test refreshes. Conflicts between the writers are
 * expected and retried; any other error fails the test when the writers stop.
 */
public final class ConcurrentWriters implements AutoCloseable {
    /** Serialization failure, deadlock, lock not available, and two writers racing to one new key. */
    private static final Set<String> RETRIABLE = Set.of("40001", "40P01", "55P03", "23505");
    /** Mean pause between two batches of one writer. */
    private static final int PAUSE_MILLIS = 400;

    private final List<Thread> threads = new ArrayList<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final AtomicInteger committed = new AtomicInteger();
    private final AtomicInteger retried = new AtomicInteger();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    /** Writers hold it shared while a batch is open; {@link #pause} takes it exclusively. */
    private final ReadWriteLock gate = new ReentrantReadWriteLock(true);

    private ConcurrentWriters() {
    }

    /** Starts {@code count} writers, each with random numbers of its own derived from {@code seed}. */
    public static ConcurrentWriters start(TestDatabase db, Workload workload, long seed, int count) {
        ConcurrentWriters writers = new ConcurrentWriters();
        for (int i = 0; i < count; i++) {
            Random random = new Random(seed * 7919 + i);
            Thread t = new Thread(() -> writers.write(db, workload, random), "harness-writer-" + i);
            t.setDaemon(true);
            writers.threads.add(t);
        }
        writers.threads.forEach(Thread::start);
        return writers;
    }

    private void write(TestDatabase db, Workload workload, Random random) {
        try (Connection c = db.connect()) {
            while (!stop.get()) {
                Batch batch = workload.randomBatch(random);
                Batch oneTransaction = new Batch(batch.statements(), true);
                gate.readLock().lockInterruptibly();
                try {
                    for (int attempt = 1; !stop.get(); attempt++) {
                        try {
                            oneTransaction.applyTo(c);
                            committed.incrementAndGet();
                            break;
                        } catch (SQLException e) {
                            if (!RETRIABLE.contains(e.getSQLState()) || attempt >= 5) {
                                throw new IllegalStateException("writer batch failed (" + e.getSQLState() + "): "
                                        + e.getMessage() + "\n" + oneTransaction.describe(), e);
                            }
                            retried.incrementAndGet();
                        }
                    }
                } finally {
                    gate.readLock().unlock();
                }
                // A steady trickle, not a flood: the point is commits racing the refreshes, and a
                // window of tens of thousands of changes only measures how slow a wide self-join delta is.
                Thread.sleep(PAUSE_MILLIS / 2 + random.nextInt(PAUSE_MILLIS));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Throwable e) {
            failure.compareAndSet(null, e);
        }
    }

    /**
     * Waits until no writer has a transaction open and keeps them out until {@link #resume}: the
     * sources are quiet, so a refresh now must bring every stream table exactly to its query.
     */
    public void pause() {
        gate.writeLock().lock();
    }

    public void resume() {
        gate.writeLock().unlock();
    }

    public int committed() {
        return committed.get();
    }

    /** Stops the writers and waits for them; fails if one met an error it could not retry. */
    public Summary stop() {
        stop.set(true);
        for (Thread t : threads) {
            try {
                t.join(60_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while stopping the writers", e);
            }
            if (t.isAlive()) {
                throw new AssertionError(t.getName() + " did not stop within a minute");
            }
        }
        if (failure.get() != null) {
            throw new AssertionError("a concurrent writer failed: " + failure.get().getMessage(), failure.get());
        }
        return new Summary(committed.get(), retried.get());
    }

    @Override
    public void close() {
        stop.set(true);
    }

    /** Batches the writers committed, and conflicts they retried. */
    public record Summary(int committed, int retried) {
    }
}
