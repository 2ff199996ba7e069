package io.pgtrickle.bench.tpch;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What one TPC-H run does.
 *
 * @param scale TPC-H scale factor (1 = 6 million lineitems)
 * @param queries query numbers, 1 to 22
 * @param changes change batch sizes, each measured {@code cycles} times
 * @param cycles change batches per size, each followed by the refreshes of every query
 * @param seed seed of the change batches' random choices
 * @param outputDirectory where the CSV files and charts go
 * @param refreshTimeout longest one measured refresh may take; it is cancelled then, recorded as timed
 *     out, and that refresh of that query is skipped for the rest of the run
 * @param dropAtEnd whether to drop the tables, stream tables and views afterwards (a lasting database)
 * @param auto whether each query also gets an AUTO stream table, refreshed and checked after the others
 */
public record TpchOptions(double scale, List<Integer> queries, List<ChangeSize> changes, int cycles, long seed,
                          Duration refreshTimeout, Path outputDirectory, boolean dropAtEnd,
                          boolean auto) {
    public TpchOptions {
        if (!(scale > 0)) {
            throw new IllegalArgumentException("the scale factor must be more than 0, got " + scale);
        }
        queries = List.copyOf(queries);
        changes = List.copyOf(changes);
        if (queries.isEmpty() || changes.isEmpty()) {
            throw new IllegalArgumentException("give at least one query and one change size");
        }
        if (cycles < 1) {
            throw new IllegalArgumentException("cycles must be 1 or more, got " + cycles);
        }
        Objects.requireNonNull(outputDirectory, "outputDirectory");
        if (refreshTimeout.isNegative() || refreshTimeout.isZero()) {
            throw new IllegalArgumentException("the refresh timeout must be longer than 0s");
        }
    }
}
