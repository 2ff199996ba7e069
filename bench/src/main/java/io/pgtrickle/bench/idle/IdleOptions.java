package io.pgtrickle.bench.idle;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What one run of the no-change benchmark does.
 *
 * @param scale TPC-H scale factor of the tables the per-query stream tables read
 * @param queries TPC-H query numbers whose stream tables are refreshed with nothing changed
 * @param repeats refreshes (and scheduler ticks) measured per object
 * @param idleStreamTables stream tables the scheduler tick is measured with
 * @param refreshTimeout longest the measurements of one query may take together; cancelled then
 * @param outputDirectory where the CSV files and the chart go
 * @param dropAtEnd whether to drop what the run made (a lasting database)
 */
public record IdleOptions(double scale, List<Integer> queries, int repeats, int idleStreamTables,
                          Duration refreshTimeout, Path outputDirectory, boolean dropAtEnd) {
    public IdleOptions {
        queries = List.copyOf(queries);
        if (!(scale > 0) || repeats < 1 || idleStreamTables < 1) {
            throw new IllegalArgumentException("scale, repeats and idle stream tables must be positive");
        }
        Objects.requireNonNull(outputDirectory, "outputDirectory");
    }
}
