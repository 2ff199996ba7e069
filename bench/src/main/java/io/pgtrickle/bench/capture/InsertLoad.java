package io.pgtrickle.bench.capture;

import io.pgtrickle.bench.ConnectionFactory;
import io.pgtrickle.bench.LongList;
import io.pgtrickle.bench.Pacer;
import io.pgtrickle.bench.Quantiles;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Writer threads, each with a connection of its own in autocommit, inserting one batch of rows
 * per statement (so one transaction per batch), paced by a {@link Pacer} to a shared target
 * transaction rate. Each
 * writer stops by itself when its rows are sent or the load's time is up, or at the first error,
 * which stops the others too. Round trips (execute to commit acknowledged, as the client sees
 * them) are recorded for transactions started after the warm-up.
 */
public final class InsertLoad implements AutoCloseable {
    private final List<Connection> connections;
    private final String insertSql;
    private final AtomicLong written = new AtomicLong();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final List<LongList> roundTrips = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private CountDownLatch done;
    private volatile boolean stopping;

    private InsertLoad(List<Connection> connections, String insertSql) {
        this.connections = connections;
        this.insertSql = insertSql;
    }

    /**
     * Opens the writers' connections, before the load starts so that connecting is not part of it.
     *
     * @param insertSql a statement with one parameter, the rows' payload text
     */
    public static InsertLoad open(ConnectionFactory source, int writers, String insertSql) throws SQLException {
        List<Connection> connections = new ArrayList<>();
        try {
            for (int i = 0; i < writers; i++) {
                Connection c = source.open();
                connections.add(c);
                c.setAutoCommit(true);
            }
        } catch (SQLException | RuntimeException e) {
            for (Connection c : connections) {
                closeQuietly(c);
            }
            throw e;
        }
        return new InsertLoad(connections, insertSql);
    }

    /**
     * Starts the writers.
     *
     * @param startNanos {@link System#nanoTime()} at which the load starts (the warm-up with it)
     * @param length warm-up and measured time together
     * @param rate transactions per second across all writers, 0 for as fast as possible
     * @param measureFromNanos round trips of transactions started from here on are recorded
     */
    public synchronized void start(long startNanos, Duration length, long rate, long measureFromNanos) {
        if (done != null) {
            throw new IllegalStateException("already started");
        }
        done = new CountDownLatch(connections.size());
        for (int i = 0; i < connections.size(); i++) {
            Pacer pacer = new Pacer(startNanos, length, rate, connections.size(), i);
            LongList samples = new LongList();
            roundTrips.add(samples);
            int index = i;
            Connection c = connections.get(i);
            Thread t = new Thread(() -> write(index, c, pacer, samples, measureFromNanos), "bench-writer-" + i);
            t.setDaemon(true);
            threads.add(t);
        }
        threads.forEach(Thread::start);
    }

    private void write(int writer, Connection c, Pacer pacer, LongList samples, long measureFromNanos) {
        String filler = "x".repeat(40);
        try (PreparedStatement insert = c.prepareStatement(insertSql)) {
            for (long k = 0; !stopping && pacer.sends(k, System.nanoTime()); k++) {
                pacer.awaitDue(k);
                long sent = System.nanoTime();
                if (sent >= pacer.endNanos()) {
                    break;
                }
                insert.setString(1, String.format("writer %02d row %010d %s", writer, k, filler));
                int rows = insert.executeUpdate();
                long acknowledged = System.nanoTime();
                written.addAndGet(rows);
                if (sent >= measureFromNanos) {
                    samples.add(acknowledged - sent);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (SQLException | RuntimeException e) {
            if (!stopping) {
                failure.compareAndSet(null, e);
                stopping = true;
            }
        } finally {
            done.countDown();
        }
    }

    /** Rows committed so far. */
    public long written() {
        return written.get();
    }

    /** Waits until every writer has stopped; false on timeout. */
    public boolean await(Duration timeout) throws InterruptedException {
        return done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Whether every writer has stopped. */
    public boolean finished() {
        return done.getCount() == 0;
    }

    /** The first error a writer met, which stopped the load. */
    public Optional<Throwable> failure() {
        return Optional.ofNullable(failure.get());
    }

    /** The recorded round trips of all writers; call after the writers stopped. */
    public Quantiles roundTrips() {
        return Quantiles.of(LongList.concat(roundTrips));
    }

    @Override
    public void close() {
        stopping = true;
        threads.forEach(Thread::interrupt);
        for (Thread t : threads) {
            try {
                t.join(TimeUnit.SECONDS.toMillis(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        connections.forEach(InsertLoad::closeQuietly);
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (SQLException ignored) {
            // the load is over; nothing to do about a connection that fails to close
        }
    }
}
