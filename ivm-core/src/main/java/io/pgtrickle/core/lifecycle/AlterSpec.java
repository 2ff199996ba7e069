package io.pgtrickle.core.lifecycle;

import io.pgtrickle.core.catalog.Status;
import io.pgtrickle.core.schedule.Schedule;
import java.util.Optional;

/** What to change on a stream table; empty parts stay as they are. */
public record AlterSpec(Optional<String> query, Optional<Schedule> schedule, Optional<RefreshMode> refreshMode,
                        Optional<Status> status) {
    public static AlterSpec none() {
        return new AlterSpec(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    public AlterSpec withQuery(String query) {
        return new AlterSpec(Optional.of(query), schedule, refreshMode, status);
    }

    public AlterSpec withSchedule(String text) {
        return new AlterSpec(query, Optional.of(Schedule.parse(text)), refreshMode, status);
    }

    public AlterSpec withRefreshMode(String text) {
        return new AlterSpec(query, schedule, Optional.of(RefreshMode.parse(text)), status);
    }

    /** ACTIVE resumes a suspended stream table; SUSPENDED pauses it. */
    public AlterSpec withStatus(Status status) {
        if (status == Status.ERROR) {
            throw new IllegalArgumentException("status can be set to ACTIVE or SUSPENDED only");
        }
        return new AlterSpec(query, schedule, refreshMode, Optional.of(status));
    }

    public boolean isEmpty() {
        return query.isEmpty() && schedule.isEmpty() && refreshMode.isEmpty() && status.isEmpty();
    }
}
