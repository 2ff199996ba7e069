package io.pgtrickle.core.inbox;

import java.util.Objects;

/**
 * The settings of a new inbox, as {@code pgtrickle.create_inbox} takes them. The values are checked
 * by the catalog when the inbox is created (a clear error names the bad one), not here.
 *
 * @param name the inbox and its table; its stream tables are {@code <name>_pending} and so on
 * @param schema the schema of the table and its stream tables
 * @param maxRetries failures after which an event is dead-lettered
 * @param withDeadLetter whether {@code <name>_dlq} is kept
 * @param withStats whether {@code <name>_stats} is kept
 * @param retentionHours processed events older than this are deleted by the engine
 * @param schedule the refresh schedule of the inbox's stream tables
 */
public record InboxSpec(String name, String schema, int maxRetries, boolean withDeadLetter, boolean withStats,
                        int retentionHours, String schedule) {
    public static final String DEFAULT_SCHEMA = "pgtrickle";
    public static final int DEFAULT_MAX_RETRIES = 3;
    public static final int DEFAULT_RETENTION_HOURS = 72;
    /** Pending work should show within about a second. */
    public static final String DEFAULT_SCHEDULE = "1s";

    public InboxSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(schema, "schema");
        Objects.requireNonNull(schedule, "schedule");
    }

    /** An inbox with the defaults of {@code create_inbox}. */
    public static InboxSpec of(String name) {
        return new InboxSpec(name, DEFAULT_SCHEMA, DEFAULT_MAX_RETRIES, true, true, DEFAULT_RETENTION_HOURS,
                DEFAULT_SCHEDULE);
    }

    public InboxSpec inSchema(String schema) {
        return new InboxSpec(name, schema, maxRetries, withDeadLetter, withStats, retentionHours, schedule);
    }

    public InboxSpec withMaxRetries(int maxRetries) {
        return new InboxSpec(name, schema, maxRetries, withDeadLetter, withStats, retentionHours, schedule);
    }

    public InboxSpec withDeadLetter(boolean withDeadLetter) {
        return new InboxSpec(name, schema, maxRetries, withDeadLetter, withStats, retentionHours, schedule);
    }

    public InboxSpec withStats(boolean withStats) {
        return new InboxSpec(name, schema, maxRetries, withDeadLetter, withStats, retentionHours, schedule);
    }

    public InboxSpec withRetentionHours(int retentionHours) {
        return new InboxSpec(name, schema, maxRetries, withDeadLetter, withStats, retentionHours, schedule);
    }

    public InboxSpec withSchedule(String schedule) {
        return new InboxSpec(name, schema, maxRetries, withDeadLetter, withStats, retentionHours, schedule);
    }
}
