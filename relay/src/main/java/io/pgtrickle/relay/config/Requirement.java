package io.pgtrickle.relay.config;

/** Whether a {@link ConfigKey} must be given. */
public enum Requirement {
    REQUIRED("yes"),
    OPTIONAL("no"),
    /** {@code postgres_url}: not needed when the relay starts its own PostgreSQL. */
    UNLESS_EMBEDDED("unless [engine] embedded");

    private final String text;

    Requirement(String text) {
        this.text = text;
    }

    public String text() {
        return text;
    }
}
