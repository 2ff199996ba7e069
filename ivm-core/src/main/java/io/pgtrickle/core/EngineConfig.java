package io.pgtrickle.core;

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
 */
public record EngineConfig(String jdbcUrl, String user, String password, Duration schedulerTick,
                           Duration requestPoll, RetryPolicy retryPolicy, int poolSize) {
    public EngineConfig {
        Objects.requireNonNull(jdbcUrl, "jdbcUrl");
        if (!jdbcUrl.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("not a PostgreSQL JDBC URL: " + jdbcUrl
                    + " (expected jdbc:postgresql://host:port/database)");
        }
        Objects.requireNonNull(schedulerTick, "schedulerTick");
        Objects.requireNonNull(requestPoll, "requestPoll");
        Objects.requireNonNull(retryPolicy, "retryPolicy");
        if (poolSize < 2) {
            throw new IllegalArgumentException("poolSize must be at least 2, got " + poolSize);
        }
    }

    /** Defaults: a one-second scheduler tick, as pg_trickle's background worker has. */
    public static EngineConfig of(String jdbcUrl) {
        return new EngineConfig(jdbcUrl, null, null, Duration.ofSeconds(1), Duration.ofSeconds(1),
                RetryPolicy.defaults(), 8);
    }

    public EngineConfig withCredentials(String user, String password) {
        return new EngineConfig(jdbcUrl, user, password, schedulerTick, requestPoll, retryPolicy, poolSize);
    }

    public EngineConfig withSchedulerTick(Duration tick) {
        return new EngineConfig(jdbcUrl, user, password, tick, requestPoll, retryPolicy, poolSize);
    }

    public EngineConfig withRequestPoll(Duration poll) {
        return new EngineConfig(jdbcUrl, user, password, schedulerTick, poll, retryPolicy, poolSize);
    }

    public EngineConfig withRetryPolicy(RetryPolicy policy) {
        return new EngineConfig(jdbcUrl, user, password, schedulerTick, requestPoll, policy, poolSize);
    }

    /** The URL with any password parameter masked, for logs and messages. */
    public String redactedUrl() {
        return jdbcUrl.replaceAll("(?i)(password=)[^&]*", "$1***");
    }

    @Override
    public String toString() {
        return "EngineConfig[jdbcUrl=" + redactedUrl() + ", user=" + user + ", password=" + (password == null ? "none" : "***")
                + ", schedulerTick=" + schedulerTick + ", requestPoll=" + requestPoll + ", retryPolicy=" + retryPolicy
                + ", poolSize=" + poolSize + "]";
    }
}
