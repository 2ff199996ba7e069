package io.pgtrickle.bench;

import java.util.Arrays;
import java.util.Collection;

/**
 * A growable array of longs, written by one thread (a writer's xids, round trips, order ids) and
 * read after that thread ended. Not thread-safe.
 */
public final class LongList {
    private long[] values = new long[1024];
    private int size;

    public void add(long v) {
        if (size == values.length) {
            values = Arrays.copyOf(values, size * 2);
        }
        values[size++] = v;
    }

    public int size() {
        return size;
    }

    public long get(int i) {
        if (i >= size) {
            throw new IndexOutOfBoundsException(i + " of " + size);
        }
        return values[i];
    }

    public long[] toArray() {
        return Arrays.copyOf(values, size);
    }

    /** The values of all {@code lists}, one after the other. */
    public static long[] concat(Collection<LongList> lists) {
        long[] all = new long[lists.stream().mapToInt(LongList::size).sum()];
        int at = 0;
        for (LongList l : lists) {
            System.arraycopy(l.values, 0, all, at, l.size);
            at += l.size;
        }
        return all;
    }
}
