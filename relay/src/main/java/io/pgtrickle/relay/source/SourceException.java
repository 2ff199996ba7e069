package io.pgtrickle.relay.source;

/** A reverse pipeline's source failed; {@code retriable} as for {@code TargetException}. */
public class SourceException extends Exception {
    private final boolean retriable;

    public SourceException(String message, boolean retriable, Throwable cause) {
        super(message, cause);
        this.retriable = retriable;
    }

    public SourceException(String message, boolean retriable) {
        this(message, retriable, null);
    }

    public boolean retriable() {
        return retriable;
    }
}
