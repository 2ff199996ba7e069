package io.pgtrickle.core;

import io.pgtrickle.core.capture.CdcMode;
import io.pgtrickle.core.refresh.RetryPolicy;
import java.time.Duration;
import java.util.Objects;

/**
 * How the engine connects and paces itself.
 *
 * @param jdbcUrl the database to maintain ({@code jdbc:postgresql://host:port/db})
 * @param user user name, or {@code null} to take it from the URL
 * @param password password, or {@code null}; never logged
 * @param schedulerTick how often the scheduler looks for due stream tables
 * @param requestPoll longest wait for a request when no notification arrives
 * @param retryPolicy back-off and suspension after failed refreshes
 * @param poolSize connections the engine may use
 * @param cdcMode how changes are captured: AUTO (WAL when possible), WAL or TRIGGER
 * @param slotName the logical replication slot (slots are per cluster: one name per database)
 * @param captureTimeout how long a refresh waits for WAL capture to catch up
 * @param trackingTimeout how long starting to track a source waits for older transactions
 * @param capturePollInterval Debezium's {@code poll.interval.ms}: the latency of the capture barrier
 *     is about one interval (its decoding thread sleeps up to one when the WAL is idle, and its
 *     queue hands over a batch at the end of one), and Debezium's queue spins through the last
 *     millisecond of each, so an idle engine costs about 1 ms of CPU per interval (10 ms: barrier
 *     medians of 8 to 13 ms, 9 to 11 % of a core while idle; 2 ms: 3.5 to 4 ms, about 32 %;
 *     measured under load by {@code RefreshStatementsIT}; see docs/capture.md)
 * @param maxConcurrentRefreshes how many stream tables refresh at once, each on its own connection
 *     (dependants after their sources); 1 refreshes them one by one; below {@code poolSize}
 * @param tieredScheduling whether due stream tables whose sources have not changed for a while are
 *     checked less often (see {@code Scheduler}): a cheaper tick for many stream tables, at the price
 *     of staleness beyond the schedule until the next check; off by default
 */
public record EngineConfig(String jdbcUrl, String user, String password, Duration schedulerTick,
                           Duration requestPoll, RetryPolicy retryPolicy, int poolSize, CdcMode cdcMode,
                           String slotName, Duration captureTimeout, Duration trackingTimeout,
                           Duration capturePollInterval, int maxConcurrentRefreshes, boolean tieredScheduling) {
    public EngineConfig {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("not a PostgreSQL JDBC URL: " + jdbcUrl.replaceAll("(?i)(password=)[^&]*", "$1***")
                    + " (expected jdbc:postgresql://host:port/database)");
        }
        Objects.requireNonNull(schedulerTick, "schedulerTick");
        Objects.requireNonNull(requestPoll, "requestPoll");
        Objects.requireNonNull(retryPolicy, "retryPolicy");
        Objects.requireNonNull(cdcMode, "cdcMode");
        Objects.requireNonNull(captureTimeout, "captureTimeout");
        Objects.requireNonNull(trackingTimeout, "trackingTimeout");
        Objects.requireNonNull(capturePollInterval, "capturePollInterval");
        if (capturePollInterval.toMillis() < 1) {
            throw new IllegalArgumentException("capturePollInterval must be at least 1 ms, got " + capturePollInterval);
        }
        if (poolSize < 2) {
            throw new IllegalArgumentException("poolSize must be at least 2, got " + poolSize);
        }
        if (maxConcurrentRefreshes < 1 || maxConcurrentRefreshes >= poolSize) {
            throw new IllegalArgumentException("maxConcurrentRefreshes must be from 1 to poolSize - 1 (" + (poolSize - 1)
                    + ": the scheduler and the request listener need connections too), got " + maxConcurrentRefreshes);
        }
        if (slotName == null || !slotName.matches("[a-z0-9_]{1,63}")) {
            throw new IllegalArgumentException("slot name must be 1-63 lower-case letters, digits or underscores, got "
                    + slotName);
        }
    }

    /** Defaults: a one-second scheduler tick, as pg_trickle's background worker has; AUTO capture. */
    public static EngineConfig of(String jdbcUrl) {
        return new EngineConfig(jdbcUrl, null, null, Duration.ofSeconds(1), Duration.ofSeconds(1),
                RetryPolicy.defaults(), 8, CdcMode.AUTO, "pgtrickle_slot", Duration.ofSeconds(30),
                Duration.ofSeconds(60), Duration.ofMillis(10), 1, false);
    }

    public EngineConfig withCredentials(String user, String password) {
        return new EngineConfig(jdbcUrl, user, password, schedulerTick, requestPoll, retryPolicy, poolSize, cdcMode,
                slotName, captureTimeout, trackingTimeout, capturePollInterval, maxConcurrentRefreshes, tieredScheduling);
    }

    /** Refresh up to {@code n} independent stream tables at once (the pool grows to fit). */
    public EngineConfig withMaxConcurrentRefreshes(int n) {
        return new EngineConfig(jdbcUrl, user, password, schedulerTick, requestPoll, retryPolicy, Math.max(poolSize, n + 4),
                cdcMode, slotName, captureTimeout, trackingTimeout, capturePollInterval, n, tieredScheduling);
    }

    /** Checks stream tables whose sources have not changed for a while less often ({@code Scheduler}). */
    public EngineConfig withTieredScheduling(boolean on) {
        return new EngineConfig(jdbcUrl, user, password, schedulerTick, requestPoll, retryPolicy, poolSize, cdcMode,
                slotName, captureTimeout, trackingTimeout, capturePollInterval, maxConcurrentRefreshes, on);
    }

    public EngineConfig withSchedulerTick(Duration tick) {
        return new EngineConfig(jdbcUrl, user, password, tick, requestPoll, retryPolicy, poolSize, cdcMode,
                slotName, captureTimeout, trackingTimeout, capturePollInterval, maxConcurrentRefreshes, tieredScheduling);
    }

    public EngineConfig withRequestPoll(Duration poll) {
        return new EngineConfig(jdbcUrl, user, password, schedulerTick, poll, retryPolicy, poolSize, cdcMode,
                slotName, captureTimeout, trackingTimeout, capturePollInterval, maxConcurrentRefreshes, tieredScheduling);
    }

    public EngineConfig withRetryPolicy(RetryPolicy policy) {
        return new EngineConfig(jdbcUrl, user, password, schedulerTick, requestPoll, policy, poolSize, cdcMode,
                slotName, captureTimeout, trackingTimeout, capturePollInterval, maxConcurrentRefreshes, tieredScheduling);
    }

    public EngineConfig withCdcMode(CdcMode mode) {
        return new EngineConfig(jdbcUrl, user, password, schedulerTick, requestPoll, retryPolicy, poolSize, mode,
                slotName, captureTimeout, trackingTimeout, capturePollInterval, maxConcurrentRefreshes, tieredScheduling);
    }

    public EngineConfig withSlotName(String slot) {
        return new EngineConfig(jdbcUrl, user, password, schedulerTick, requestPoll, retryPolicy, poolSize, cdcMode,
                slot, captureTimeout, trackingTimeout, capturePollInterval, maxConcurrentRefreshes, tieredScheduling);
    }

    public EngineConfig withCaptureTimeout(Duration timeout) {
        return new EngineConfig(jdbcUrl, user, password, schedulerTick, requestPoll, retryPolicy, poolSize, cdcMode,
                slotName, timeout, trackingTimeout, capturePollInterval, maxConcurrentRefreshes, tieredScheduling);
    }

    public EngineConfig withTrackingTimeout(Duration timeout) {
        return new EngineConfig(jdbcUrl, user, password, schedulerTick, requestPoll, retryPolicy, poolSize, cdcMode,
                slotName, captureTimeout, timeout, capturePollInterval, maxConcurrentRefreshes, tieredScheduling);
    }

    public EngineConfig withCapturePollInterval(Duration interval) {
        return new EngineConfig(jdbcUrl, user, password, schedulerTick, requestPoll, retryPolicy, poolSize, cdcMode,
                slotName, captureTimeout, trackingTimeout, interval, maxConcurrentRefreshes, tieredScheduling);
    }

    /** The URL with any password parameter masked, for logs and messages. */
    public String redactedUrl() {
        return jdbcUrl.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    @Override
    public String toString() {
        return "EngineConfig[jdbcUrl=" + redactedUrl() + ", user=" + user + ", password=" + (password == null ? "none" : "***")
                + ", schedulerTick=" + schedulerTick + ", requestPoll=" + requestPoll + ", retryPolicy=" + retryPolicy
                + ", poolSize=" + poolSize + ", cdcMode=" + cdcMode + ", slotName=" + slotName
                + ", captureTimeout=" + captureTimeout + ", trackingTimeout=" + trackingTimeout
                + ", capturePollInterval=" + capturePollInterval + ", maxConcurrentRefreshes=" + maxConcurrentRefreshes
                + ", tieredScheduling=" + tieredScheduling + "]";
    }
}
