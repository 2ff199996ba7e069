package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.schedule.Schedule;
import io.pgtrickle.core.sql.QualifiedName;
import java.util.Objects;

/** The definition of a stream table: its name, defining query, schedule and refresh mode. */
public record StreamTableSpec(QualifiedName name, String query, Schedule schedule, RefreshMode refreshMode) {
    /** The schedule used when none is given, as in pg_trickle. */
    public static final String DEFAULT_SCHEDULE = "1m";

    public StreamTableSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(query, "query");
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(refreshMode, "refreshMode");
    }

    /** A spec from user text, with the default schedule and AUTO mode; each part validated. */
    public static StreamTableSpec of(String name, String query) {
        return parse(name, query, DEFAULT_SCHEDULE, null);
    }

    /**
     * Parses user text; {@code schedule} {@code null} means calculated, {@code refreshMode}
     * {@code null} means AUTO.
     */
    public static StreamTableSpec parse(String name, String query, String schedule, String refreshMode) {
        return new StreamTableSpec(QualifiedName.parse(name), query, Schedule.parse(schedule),
                RefreshMode.parse(refreshMode));
    }

    public StreamTableSpec withSchedule(String schedule) {
        return new StreamTableSpec(name, query, Schedule.parse(schedule), refreshMode);
    }

    public StreamTableSpec withRefreshMode(String mode) {
        return new StreamTableSpec(name, query, schedule, RefreshMode.parse(mode));
    }
}
