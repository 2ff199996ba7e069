package io.pgtrickle.bench.load;

import java.util.Arrays;

/**
 * A PostgreSQL {@code pg_snapshot} as text, {@code xmin:xmax:xip,...}: which transactions it sees.
 * A committed transaction is visible when its id is below {@code xmin}, or below {@code xmax} and
 * not in progress.
 */
record Snapshot(long xmin, long xmax, long[] inProgress) {
    static Snapshot parse(String text) {
        String[] parts = text.strip().split(":", -1);
        if (parts.length != 3) {
            throw new IllegalArgumentException("not a pg_snapshot: " + text);
        }
        long[] xip = parts[2].isEmpty() ? new long[0]
                : Arrays.stream(parts[2].split(",")).mapToLong(Long::parseLong).sorted().toArray();
        return new Snapshot(Long.parseLong(parts[0]), Long.parseLong(parts[1]), xip);
    }

    /** Whether the committed transaction {@code xid} (a 64-bit xid8) is visible in this snapshot. */
    boolean sees(long xid) {
        return xid < xmin || (xid < xmax && Arrays.binarySearch(inProgress, xid) < 0);
    }
}
