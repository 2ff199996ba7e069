package io.pgtrickle.relay.runtime;

import io.pgtrickle.relay.config.SourceConfig;
import io.pgtrickle.relay.source.EventSource;

/** The event source of a reverse pipeline. */
final class Sources {
    private Sources() {
    }

    static EventSource create(SourceConfig source) {
        throw new IllegalArgumentException("not a reverse source: " + source.getClass().getSimpleName());
    }
}
