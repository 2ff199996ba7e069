package io.pgtrickle.core.error;

import java.util.Objects;

/** An error the user can act on: a stable code and a message naming the offending part. */
public class PgTrickleException extends RuntimeException {
    private final ErrorCode code;

    public PgTrickleException(ErrorCode code, String message) {
        this(code, message, null);
    }

    public PgTrickleException(ErrorCode code, String message, Throwable cause) {
        super(message, cause);
        this.code = Objects.requireNonNull(code, "code");
    }

    public ErrorCode code() {
        return code;
    }
}
