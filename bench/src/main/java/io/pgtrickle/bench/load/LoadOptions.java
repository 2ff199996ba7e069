package io.pgtrickle.bench.load;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What one sustained-load run does.
 *
 * @param rates target rows per second, one phase each, in order
 * @param duration length of each phase
 * @param warmup load at the first rate before the first phase, not measured (JIT, capture start-up)
 * @param writers writer threads, one connection each
 * @param batch rows per INSERT (one transaction)
 * @param schedule schedule of the three stream tables
 * @param poll how often the visibility poller reads the stream tables' frontiers
 * @param drainTimeout longest wait after a phase for the stream tables to show every row
 * @param outputDirectory where the CSV files and charts go
 * @param dropAtEnd whether to drop what the run made (a lasting database)
 * @param audit whether to account for every writer transaction at the end ({@link LoadAudit})
 * @param seed seeds the writers' customers and amounts, so a run's data can be repeated
 */
public record LoadOptions(List<Long> rates, Duration duration, Duration warmup, int writers, int batch, String schedule,
                          Duration poll, Duration drainTimeout, Path outputDirectory, boolean dropAtEnd,
                          boolean audit, long seed) {
    public LoadOptions {
        rates = List.copyOf(rates);
        if (rates.isEmpty() || rates.stream().anyMatch(r -> r < 1)) {
            throw new IllegalArgumentException("give one or more target rates of at least 1 row/s");
        }
        if (writers < 1 || batch < 1 || duration.isZero() || duration.isNegative()) {
            throw new IllegalArgumentException("writers, batch and duration must be positive");
        }
        Objects.requireNonNull(schedule, "schedule");
        Objects.requireNonNull(outputDirectory, "outputDirectory");
    }
}
