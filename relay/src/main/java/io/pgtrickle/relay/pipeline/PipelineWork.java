package io.pgtrickle.relay.pipeline;

import java.util.function.BooleanSupplier;

/**
 * What a pipeline does while this relay owns it: one session from connecting to the target or
 * source until {@code keepGoing} turns false or something fails. A failure throws; the
 * {@link PipelineRunner} then waits (back-off) and calls {@link #run} again, which starts over by
 * recovering the position.
 */
public interface PipelineWork {
    /** Runs until {@code keepGoing} is false (then returns) or a failure (then throws). */
    void run(BooleanSupplier keepGoing, Runnable progressed) throws Exception;
}
