package io.pgtrickle.bench.capture;

import java.time.Duration;

/**
 * What one capture benchmark run does.
 *
 * @param rate target rows per second across all writers; 0 = as fast as the writers can
 * @param duration how long the measured load runs after the warm-up
 * @param warmup load before the measurement, not measured; zero for none
 * @param writers writer threads, one connection each
 * @param batch rows per INSERT, each INSERT one transaction
 * @param slotName the engine's replication slot (WAL capture waits until it streams)
 * @param dropAtEnd whether to drop what the run made (a lasting database)
 */
public record CaptureOptions(long rate, Duration duration, Duration warmup, int writers, int batch, String slotName,
                             boolean dropAtEnd) {
    public CaptureOptions {
        if (rate < 0 || writers < 1 || batch < 1 || duration.isZero() || duration.isNegative()
                || warmup.isNegative()) {
            throw new IllegalArgumentException("rate must be 0 or more; writers, batch and duration positive");
        }
    }

    /** Transactions per second the writers send together; 0 = unpaced. */
    public long transactionRate() {
        return rate == 0 ? 0 : Math.max(1, Math.round((double) rate / batch));
    }
}
