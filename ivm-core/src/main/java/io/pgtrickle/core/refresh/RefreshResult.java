package io.pgtrickle.core.refresh;

import io.pgtrickle.core.sql.QualifiedName;
import java.time.Duration;

/** The outcome of one successful refresh. */
public record RefreshResult(QualifiedName name, String action, long rowsInserted, long rowsDeleted, Duration took) {
}
