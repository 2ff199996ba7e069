package io.pgtrickle.bench.load;

/**
 * When a writer sends its rows: the command line supplies its own pacer, so every benchmark
 * paces writers the same way.
 */
public interface WriterPacing {
    /** Whether row {@code k} (from 0) is still to be sent at {@code nowNanos}. */
    boolean sends(long k, long nowNanos);

    /** Waits until row {@code k} is due. */
    void awaitDue(long k) throws InterruptedException;

    /** Creates the pacing of writer {@code index} of {@code writers} for a phase. */
    interface Factory {
        WriterPacing create(long startNanos, java.time.Duration length, long rate, int writers, int index);
    }
}
