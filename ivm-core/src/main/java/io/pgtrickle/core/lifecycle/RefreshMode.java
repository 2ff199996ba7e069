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
    DIFFERENTIAL;

    public static RefreshMode parse(String text) {
        if (text == null || text.isBlank()) {
            return AUTO;
        }
        String s = text.strip().toUpperCase(Locale.ROOT);
        if (s.equals("IMMEDIATE")) {
            throw new PgTrickleException(ErrorCode.INVALID_REFRESH_MODE,
                    "refresh mode IMMEDIATE is not supported yet: use AUTO, FULL or DIFFERENTIAL");
        }
        try {
            return valueOf(s);
        } catch (IllegalArgumentException e) {
            throw new PgTrickleException(ErrorCode.INVALID_REFRESH_MODE,
                    "invalid refresh mode \"" + text + "\": use AUTO, FULL or DIFFERENTIAL");
        }
    }
}
