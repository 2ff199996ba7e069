package io.pgtrickle.core.capture;

import io.pgtrickle.core.sql.Identifiers;
import io.pgtrickle.core.sql.QualifiedName;

/** A source relation whose changes are captured, and where they go. */
public record ChangeSource(long relid, QualifiedName name, CdcMode mode, String bufferTable) {
    /** The buffer's name, quoted and schema-qualified. */
    public String buffer() {
        return "pgtrickle_changes." + Identifiers.quote(bufferTable);
    }

    static String bufferTableFor(long relid) {
        return "changes_" + relid;
    }
}
