package io.pgtrickle.relay.pipeline;

import java.time.Clock;
import java.time.Instant;

/**
 * What one pipeline is doing, for {@code /ready}, the metrics and the logs: its state, since when,
 * and the last error while it retries.
 */
public final class PipelineStatus {
    /** An immutable view. */
    public record Snapshot(String pipeline, PipelineState state, Instant since, String lastError) {
    }

    private final String pipeline;
    private final Clock clock;
    private volatile Snapshot snapshot;

    public PipelineStatus(String pipeline, Clock clock) {
        this.pipeline = pipeline;
        this.clock = clock;
        this.snapshot = new Snapshot(pipeline, PipelineState.STARTING, clock.instant(), null);
    }

    public Snapshot snapshot() {
        return snapshot;
    }

    void set(PipelineState state) {
        set(state, null);
    }

    /** Keeps {@code since} while the state stays the same: "retrying since 10:02" stays true. */
    synchronized void set(PipelineState state, String error) {
        Snapshot s = snapshot;
        Instant since = s.state() == state ? s.since() : clock.instant();
        snapshot = new Snapshot(pipeline, state, since, error);
    }

    public String pipeline() {
        return pipeline;
    }
}
