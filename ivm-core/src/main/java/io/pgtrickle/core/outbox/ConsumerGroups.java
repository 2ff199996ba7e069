package io.pgtrickle.core.outbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgtrickle.core.error.ErrorCode;
import io.pgtrickle.core.error.PgTrickleException;
import io.pgtrickle.core.error.SqlErrors;
import io.pgtrickle.core.sql.Jdbc;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import javax.sql.DataSource;

/**
 * Consumer groups over the outbox: the Java face of {@code pgtrickle.create_consumer_group},
 * {@code poll_outbox}, {@code commit_offset} and friends (docs/outbox-inbox.md, "Consumer groups").
 *
 * <p>A group has one committed offset and at most one lease at a time: {@link #poll} gives the
 * next entries after the committed offset to one consumer until its lease expires, and the other
 * members get nothing meanwhile, so the entries of the stream table are processed in offset order
 * by one member at a time (failover, not parallelism). Every call here runs in a transaction of
 * its own, as {@code poll_outbox} needs.
 *
 * <p>Errors are {@link PgTrickleException}s: {@link ErrorCode#NOT_FOUND} for an unknown group or
 * outbox, {@link ErrorCode#NAME_TAKEN} for a duplicate group, {@link ErrorCode#LEASE_NOT_HELD} when
 * a commit or an extension comes from a consumer whose lease is gone (poll again: the entries are
 * offered again), {@link ErrorCode#INVALID_ARGUMENT} for an offset beyond the lease, backwards, or
 * outside what the outbox retains.
 */
public final class ConsumerGroups {
    /** A group whose members have not been seen for this long while entries wait is DEAD (as in V16's SQL). */
    public static final Duration DEAD_AFTER = Duration.ofMinutes(5);
    /** poll_outbox's defaults. */
    public static final int DEFAULT_BATCH_SIZE = 100;
    public static final Duration DEFAULT_VISIBILITY = Duration.ofSeconds(30);

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Where a new group starts. */
    public enum OffsetReset {
        /** After the newest entry committed now: only entries written from now on. */
        LATEST,
        /** Before the oldest entry the outbox retains. */
        EARLIEST;

        String sql() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final DataSource dataSource;

    public ConsumerGroups(DataSource dataSource) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    }

    /**
     * Creates group {@code name} reading the outbox of stream table {@code outbox}; returns the
     * offset it starts after.
     */
    public long create(String name, String outbox, OffsetReset reset) {
        Objects.requireNonNull(reset, "reset");
        return call("creating consumer group " + name, c -> Jdbc.queryValue(c, Long.class,
                "SELECT pgtrickle.create_consumer_group(?, ?, ?)", name, outbox, reset.sql()));
    }

    /** Drops the group and its members; with {@code ifExists}, a missing group is not an error. */
    public void drop(String name, boolean ifExists) {
        call("dropping consumer group " + name, c -> {
            Jdbc.call(c, "SELECT pgtrickle.drop_consumer_group(?, ?)", name, ifExists);
            return null;
        });
    }

    /** {@link #poll(String, String, int, Duration)} with the defaults: 100 entries, a 30 s lease. */
    public ConsumerGroupBatch poll(String group, String consumer) {
        return poll(group, consumer, DEFAULT_BATCH_SIZE, DEFAULT_VISIBILITY);
    }

    /**
     * The next entries for {@code consumer}, leased to it for {@code visibility} (whole seconds,
     * at least one). Empty when nothing is settled yet or another member holds a live lease; the
     * holder polling again gets its leased entries again, with the lease renewed.
     */
    public ConsumerGroupBatch poll(String group, String consumer, int batchSize, Duration visibility) {
        int seconds = seconds(visibility);
        return call("polling consumer group " + group, c -> {
            List<OutboxEntry> entries = new ArrayList<>();
            OffsetDateTime expires = null;
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT outbox_offset, stream_table, refresh_id, created_at,"
                    + " full_refresh, inserted, updated, deleted, row_count, changes::text, lease_expires_at"
                    + " FROM pgtrickle.poll_outbox(?, ?, ?, ?)", group, consumer, batchSize, seconds);
                 ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    entries.add(new OutboxEntry(rs.getLong(1), rs.getString(2), rs.getObject(3, Long.class),
                            rs.getObject(4, OffsetDateTime.class), rs.getBoolean(5), rs.getLong(6), rs.getLong(7),
                            rs.getLong(8), rs.getLong(9), rs.getString(10)));
                    expires = rs.getObject(11, OffsetDateTime.class);
                }
            }
            return new ConsumerGroupBatch(entries, expires);
        });
    }

    /**
     * Marks every entry up to {@code lastOffset} done. Committing the whole lease releases it;
     * committing the offset already committed does nothing.
     */
    public void commit(String group, String consumer, long lastOffset) {
        call("committing offset " + lastOffset + " of consumer group " + group, c -> {
            Jdbc.call(c, "SELECT pgtrickle.commit_offset(?, ?, ?)", group, consumer, lastOffset);
            return null;
        });
    }

    /** Moves the group to {@code offset} (back to replay, forward to skip) and releases its lease. */
    public void seek(String group, long offset) {
        call("seeking consumer group " + group + " to offset " + offset, c -> {
            Jdbc.call(c, "SELECT pgtrickle.seek_offset(?, ?)", group, offset);
            return null;
        });
    }

    /** Keeps {@code consumer}'s live lease for {@code visibility} from now; returns the new expiry. */
    public OffsetDateTime extendLease(String group, String consumer, Duration visibility) {
        int seconds = seconds(visibility);
        return call("extending the lease on consumer group " + group, c -> Jdbc.queryValue(c, OffsetDateTime.class,
                "SELECT pgtrickle.extend_lease(?, ?, ?)", group, consumer, seconds));
    }

    /** Says {@code consumer} is alive; it does not extend a lease. */
    public void heartbeat(String group, String consumer) {
        call("sending a heartbeat to consumer group " + group, c -> {
            Jdbc.call(c, "SELECT pgtrickle.consumer_heartbeat(?, ?)", group, consumer);
            return null;
        });
    }

    /** Where the group stands: offsets, backlog, lease, members, state. */
    public ConsumerGroupLag lag(String group) {
        return call("reading the lag of consumer group " + group, c -> {
            try (PreparedStatement ps = Jdbc.prepare(c, "SELECT group_name, outbox, committed_offset, newest_offset,"
                    + " entries_pending, changes_pending, oldest_pending_at, extract(epoch FROM oldest_pending_age),"
                    + " lease_consumer, lease_last_offset, lease_expires_at, consumers::text, state"
                    + " FROM pgtrickle.consumer_lag(?)", group);
                 ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) {
                    throw new PgTrickleException(ErrorCode.NOT_FOUND, "consumer group " + group + " does not exist");
                }
                java.math.BigDecimal age = rs.getBigDecimal(8);
                return new ConsumerGroupLag(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4), rs.getLong(5),
                        rs.getLong(6), rs.getObject(7, OffsetDateTime.class),
                        age == null ? null : Duration.ofNanos(age.movePointRight(9).longValue()),
                        rs.getString(9), rs.getObject(10, Long.class), rs.getObject(11, OffsetDateTime.class),
                        members(rs.getString(12)), ConsumerGroupState.valueOf(rs.getString(13)));
            }
        });
    }

    /** The group's lag, or empty when no such group exists. */
    public Optional<ConsumerGroupLag> find(String group) {
        try {
            return Optional.of(lag(group));
        } catch (PgTrickleException e) {
            if (e.code() == ErrorCode.NOT_FOUND) {
                return Optional.empty();
            }
            throw e;
        }
    }

    private static List<ConsumerGroupMember> members(String json) throws SQLException {
        List<ConsumerGroupMember> members = new ArrayList<>();
        try {
            for (JsonNode m : JSON.readTree(json)) {
                members.add(new ConsumerGroupMember(m.get("consumer").asText(), timestamp(m, "first_seen_at"),
                        timestamp(m, "last_seen_at"), timestamp(m, "last_poll_at")));
            }
        } catch (java.io.IOException e) {
            throw new SQLException("unreadable consumer list from consumer_lag: " + e.getMessage(), e);
        }
        return members;
    }

    private static OffsetDateTime timestamp(JsonNode node, String field) {
        JsonNode v = node.get(field);
        return v == null || v.isNull() ? null : OffsetDateTime.parse(v.asText());
    }

    private static int seconds(Duration visibility) {
        Objects.requireNonNull(visibility, "visibility");
        long s = visibility.toSeconds();
        if (s < 1 || s > Integer.MAX_VALUE || visibility.toNanosPart() != 0) {
            throw new PgTrickleException(ErrorCode.INVALID_ARGUMENT,
                    "a lease lasts a whole number of seconds, at least one; got " + visibility);
        }
        return (int) s;
    }

    private <T> T call(String context, Jdbc.Work<T> work) {
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(true);
            return work.run(c);
        } catch (SQLException e) {
            throw translate(context, e);
        }
    }

    /**
     * As {@link SqlErrors#translateCall}, except that 55000 (object not in prerequisite state) is
     * always a lease the consumer does not hold here: a consumer reacts to it by polling again.
     */
    static PgTrickleException translate(String context, SQLException e) {
        if ("55000".equals(e.getSQLState())) {
            return new PgTrickleException(ErrorCode.LEASE_NOT_HELD, context + ": " + SqlErrors.describe(e), e);
        }
        return SqlErrors.translateCall(context, e);
    }
}
