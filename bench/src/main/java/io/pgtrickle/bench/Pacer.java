package io.pgtrickle.bench;

import java.time.Duration;
import java.util.concurrent.locks.LockSupport;

/**
 * When one of several writers sends its rows so that together they hold a target rate: writer
 * {@code i} of {@code n} sends its row {@code k} at {@code start + (i + k·n) / rate}. The schedule
 * is absolute, so a late row does not push back the rows after it (a writer that fell behind
 * catches up back to back), and the writers interleave evenly. The run is bounded both in rows
 * (those due before the end) and in time (nothing is sent after the end, even when behind).
 * Rate 0 means unpaced: as fast as the writer can, until the end.
 */
public final class Pacer {
    private static final long NANOS_PER_SECOND = 1_000_000_000L;

    private final long startNanos;
    private final long endNanos;
    private final long rate;
    private final int writers;
    private final int index;

    /**
     * @param startNanos {@link System#nanoTime()} at which the load starts
     * @param length how long the load lasts
     * @param rate rows per second across all writers; 0 for unpaced
     * @param writers how many writers share the rate
     * @param index this writer, from 0
     */
    public Pacer(long startNanos, Duration length, long rate, int writers, int index) {
        if (rate < 0 || writers < 1 || index < 0 || index >= writers || length.isNegative()) {
            throw new IllegalArgumentException("rate " + rate + ", writer " + index + " of " + writers + ", length " + length);
        }
        this.startNanos = startNanos;
        this.endNanos = startNanos + length.toNanos();
        this.rate = rate;
        this.writers = writers;
        this.index = index;
    }

    public boolean paced() {
        return rate > 0;
    }

    public long endNanos() {
        return endNanos;
    }

    /** When row {@code k} (from 0) of this writer is due; the start for unpaced writers. */
    public long dueNanos(long k) {
        if (!paced()) {
            return startNanos;
        }
        return startNanos + Math.multiplyExact(index + k * writers, NANOS_PER_SECOND) / rate;
    }

    /** Whether row {@code k} is to be sent at {@code nowNanos}: due before the end, and the end not passed. */
    public boolean sends(long k, long nowNanos) {
        return nowNanos < endNanos && (!paced() || dueNanos(k) < endNanos);
    }

    /** How many rows this writer sends when it keeps up; unbounded (Long.MAX_VALUE) when unpaced. */
    public long plannedRows() {
        if (!paced()) {
            return Long.MAX_VALUE;
        }
        // The k with index + k·writers < length·rate, i.e. due before the end.
        long slots = ceilDiv(Math.multiplyExact(endNanos - startNanos, rate), NANOS_PER_SECOND);
        return slots <= index ? 0 : ceilDiv(slots - index, writers);
    }

    /** Rows all writers together send when they keep up: about rate × length. */
    public static long plannedRows(Duration length, long rate, int writers) {
        long total = 0;
        for (int i = 0; i < writers; i++) {
            total += new Pacer(0, length, rate, writers, i).plannedRows();
        }
        return total;
    }

    /** Waits until row {@code k} is due (at once when it is late or the writer is unpaced). */
    public void awaitDue(long k) throws InterruptedException {
        long due = dueNanos(k);
        for (long wait = due - System.nanoTime(); wait > 0; wait = due - System.nanoTime()) {
            LockSupport.parkNanos(wait);
            if (Thread.interrupted()) {
                throw new InterruptedException();
            }
        }
    }

    private static long ceilDiv(long a, long b) {
        return -Math.floorDiv(-a, b);
    }
}
