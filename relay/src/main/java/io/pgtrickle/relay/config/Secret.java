package io.pgtrickle.relay.config;

import java.util.Objects;

/**
 * A password, token or other value that must not be printed: {@link #toString()} masks it, so a
 * config printed or logged shows {@code ****}. Read the value with {@link #reveal()} where it is used.
 */
public record Secret(String value) {
    public static final String MASK = "****";

    public Secret {
        Objects.requireNonNull(value, "value");
    }

    public String reveal() {
        return value;
    }

    @Override
    public String toString() {
        return MASK;
    }
}
