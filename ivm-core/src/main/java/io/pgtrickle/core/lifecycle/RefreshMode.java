package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import java.util.Locale;

/** How a stream table asks to be maintained. */
public enum RefreshMode {
    /** Differential when the query allows it, else full; the default. */
    AUTO,
    /** Recompute the whole query on every refresh. */
    FULL,
    /** Apply only the delta of what changed; an error when the query cannot be differentiated. */
    DIFFERENTIAL,
    /**
     * Maintained inside every writer's transaction by generated statement triggers (the
     * differential delta rules over the statement's transition tables): exact at every commit,
     * read-your-writes. An error when the query cannot be differentiated.
     */
    IMMEDIATE;

    public static RefreshMode parse(String text) {
        if (text == null || text.isBlank()) {
            return AUTO;
        }
        String s = text.strip().toUpperCase(Locale.ROOT);
        try {
            return valueOf(s);
        } catch (IllegalArgumentException e) {
            throw new PgTrickleException(ErrorCode.INVALID_REFRESH_MODE,
                    "invalid refresh mode \"" + text + "\": use AUTO, FULL, DIFFERENTIAL or IMMEDIATE");
        }
    }
}
