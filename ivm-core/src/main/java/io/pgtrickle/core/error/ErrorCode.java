package io.pgtrickle.core.error;

/** Stable error codes; scripts and the CLI's exit codes depend on them. */
public enum ErrorCode {
    INVALID_NAME(3),
    INVALID_QUERY(3),
    UNSUPPORTED_QUERY(3),
    INVALID_SCHEDULE(3),
    INVALID_REFRESH_MODE(3),
    INVALID_ARGUMENT(3),
    NAME_TAKEN(3),
    HAS_DEPENDANTS(3),
    DEPENDENCY_CYCLE(3),
    NOT_FOUND(4),
    CONNECTION_FAILED(5),
    ENGINE_ALREADY_RUNNING(5),
    UNSUPPORTED_SERVER(5),
    REFRESH_FAILED(6),
    /** A drain's timeout passed with refreshes still in flight (they finish; no new one starts). */
    NOT_QUIET(7),
    /** A consumer committed or extended a lease of a consumer group it does not hold (expired, re-offered or never taken). */
    LEASE_NOT_HELD(3),
    INTERNAL(1);

    private final int exitCode;

    ErrorCode(int exitCode) {
        this.exitCode = exitCode;
    }

    /** The process exit code the CLI uses for this kind of error. */
    public int exitCode() {
        return exitCode;
    }
}
