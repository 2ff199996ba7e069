package io.pgtrickle.relay.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/** The meters of one pipeline, tagged {@code pipeline=<name>}. */
public final class PipelineMetrics {
    private final Counter published;
    private final Counter deduplicated;
    private final Counter failed;
    private final Timer commitToAck;
    private final AtomicLong lagRows = new AtomicLong();
    private final AtomicLong lagSeconds = new AtomicLong();
    private final AtomicLong owned = new AtomicLong();

    public PipelineMetrics(MeterRegistry registry, String pipeline) {
        published = Counter.builder("pgtrickle_relay_published").tag("pipeline", pipeline)
                .description("messages the target stored (forward) or events the inbox took (reverse)")
                .register(registry);
        deduplicated = Counter.builder("pgtrickle_relay_deduplicated").tag("pipeline", pipeline)
                .description("messages the target (or the inbox) already held and refused as repeats")
                .register(registry);
        failed = Counter.builder("pgtrickle_relay_failed").tag("pipeline", pipeline)
                .description("failed publish or consume attempts (each is retried)").register(registry);
        commitToAck = Timer.builder("pgtrickle_relay_commit_to_ack").tag("pipeline", pipeline)
                .description("from the refresh's commit to the target's acknowledgement").publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(5))
                .register(registry);
        Gauge.builder("pgtrickle_relay_lag_rows", lagRows, AtomicLong::get).tag("pipeline", pipeline)
                .description("changes in the outbox not yet delivered").register(registry);
        Gauge.builder("pgtrickle_relay_lag_seconds", lagSeconds, AtomicLong::get).tag("pipeline", pipeline)
                .description("age of the oldest change not yet delivered").register(registry);
        Gauge.builder("pgtrickle_relay_owned", owned, AtomicLong::get).tag("pipeline", pipeline)
                .description("1 while this relay owns the pipeline").register(registry);
    }

    public void published(int n) {
        published.increment(n);
    }

    public void deduplicated(int n) {
        deduplicated.increment(n);
    }

    public void failed() {
        failed.increment();
    }

    public void commitToAck(Duration d) {
        commitToAck.record(d.isNegative() ? Duration.ZERO : d);
    }

    public void lag(long rows, Duration age) {
        lagRows.set(rows);
        lagSeconds.set(age == null ? 0 : age.toSeconds());
    }

    public void owned(boolean isOwned) {
        owned.set(isOwned ? 1 : 0);
    }
}
