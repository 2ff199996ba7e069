package io.pgtrickle.relay.pipeline;

/** Where a pipeline is; {@code /ready} is true when every enabled pipeline is RUNNING or STANDBY. */
public enum PipelineState {
    /** Connecting, recovering its position. */
    STARTING,
    /** Another relay of the group owns it; this one takes over when that one stops. */
    STANDBY,
    /** Owned and delivering. */
    RUNNING,
    /** Owned, but the target, the source or PostgreSQL failed; retrying with back-off. */
    RETRYING,
    STOPPED
}
