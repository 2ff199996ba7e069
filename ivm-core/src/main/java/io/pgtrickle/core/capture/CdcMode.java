package io.pgtrickle.core.capture;

import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import java.util.Locale;

/** How row changes of source tables are captured into change buffers. */
public enum CdcMode {
    /** WAL when the server has {@code wal_level=logical}, else triggers. */
    AUTO,
    /** Logical decoding (pgoutput) through Debezium Embedded: nothing added to the writers' path. */
    WAL,
    /** Statement-level AFTER triggers write the buffers inside the writers' transactions. */
    TRIGGER;

    public static CdcMode parse(String text) {
        try {
            return valueOf(text.strip().toUpperCase(Locale.ROOT));
        } catch (RuntimeException e) {
            throw new PgTrickleException(ErrorCode.INVALID_ARGUMENT,
                    "invalid cdc mode \"" + text + "\": use auto, wal or trigger");
        }
    }
}
