package io.pgtrickle.bench.relay;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What a reader of a destination saw: per source row id (the {@code id} column of the change's row
 * in the native format), when its change arrived and how often. Ids are dense from 1, so arrays
 * keep this cheap at tens of thousands of messages per second.
 */
final class Arrivals {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final long[] arrivedAt;
    private final int[] seen;
    private final AtomicLong messages = new AtomicLong();
    private final AtomicLong undecodable = new AtomicLong();
    private volatile long lastNanos;

    Arrivals(int maxId) {
        arrivedAt = new long[maxId + 1];
        seen = new int[maxId + 1];
    }

    /** Called by the reader's thread for each message. */
    void arrived(byte[] value) {
        long now = System.nanoTime();
        int id = idOf(value);
        if (id <= 0 || id >= seen.length) {
            undecodable.incrementAndGet();
        } else {
            if (seen[id]++ == 0) {
                arrivedAt[id] = now;
            }
        }
        lastNanos = now;
        messages.incrementAndGet();
    }

    private static int idOf(byte[] value) {
        try {
            JsonNode change = JSON.readTree(value);
            JsonNode row = change.path("after").isObject() ? change.path("after") : change.path("before");
            return row.path("id").asInt(-1);
        } catch (IOException e) {
            return -1;
        }
    }

    long messages() {
        return messages.get();
    }

    long lastNanos() {
        return lastNanos;
    }

    long undecodable() {
        return undecodable.get();
    }

    long arrivedAt(int id) {
        return arrivedAt[id];
    }

    /** Ids in {@code [from, to]} seen more than once (the reader sees the messages in arrival order). */
    long repeated(int from, int to) {
        long n = 0;
        for (int id = from; id <= to; id++) {
            if (seen[id] > 1) {
                n += seen[id] - 1;
            }
        }
        return n;
    }

    /** Ids in {@code [from, to]} never seen. */
    long missing(int from, int to) {
        long n = 0;
        for (int id = from; id <= to; id++) {
            if (seen[id] == 0) {
                n++;
            }
        }
        return n;
    }

    /** Waits until {@code count} messages arrived or the timeout passed; true when they did. */
    boolean await(long count, long timeoutNanos) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutNanos;
        while (messages.get() < count) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(2);
        }
        return true;
    }
}
