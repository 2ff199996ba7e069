package io.pgtrickle.relay.target;

/**
 * A target refused or failed an operation. {@code retriable} says whether trying again later can
 * succeed (the server is down, a timeout) or not (bad credentials, a stream whose configuration
 * cannot hold the pipeline's guarantees): the pipeline retries the first with back-off and stops
 * with the message on the second.
 */
public class TargetException extends Exception {
    private final boolean retriable;

    public TargetException(String message, boolean retriable, Throwable cause) {
        super(message, cause);
        this.retriable = retriable;
    }

    public TargetException(String message, boolean retriable) {
        this(message, retriable, null);
    }

    public boolean retriable() {
        return retriable;
    }
}
