package io.pgtrickle.bench.parallel;

import java.util.List;

/**
 * What {@code bench parallel} measures: {@code streamTables} independent stream tables over one
 * table of {@code rows} rows, {@code dependants} stream tables each reading two of them,
 * {@code changedRows} rows updated per round, one scheduler pass timed per concurrency level per
 * round, after one warm-up round. With {@code sharedSource} false each independent stream table
 * reads a table of its own (its slice), so no two share a change buffer.
 */
public record ParallelOptions(int streamTables, int dependants, int rows, int changedRows, List<Integer> concurrency,
                              int rounds, boolean sharedSource) {
    public ParallelOptions {
        concurrency = List.copyOf(concurrency);
    }

    /** The largest concurrency level: the engine's connection pool must fit it. */
    public int maxConcurrency() {
        return concurrency.stream().mapToInt(Integer::intValue).max().orElse(1);
    }

    /** Stream tables every timed pass must refresh. */
    public int total() {
        return streamTables + dependants;
    }
}
