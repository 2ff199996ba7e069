package io.pgtrickle.relay.target.kafka;

import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.format.Headers;
import io.pgtrickle.relay.target.TargetException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;

/**
 * Finds the highest {@link Headers#POSITION} among the committed records of some topics, reading
 * each partition backwards from its end with a {@code read_committed} consumer.
 *
 * <p>Under {@code read_committed} a partition's end offset is its last stable offset, and the
 * offsets just before it may hold transaction markers and aborted records, which the consumer
 * skips. So the reader starts with a small window before the end and doubles it until the window
 * holds a record carrying a position, or reaches the partition's start.
 */
final class LastPositionReader {
    private static final int FIRST_WINDOW = 8;

    private final Consumer<byte[], byte[]> consumer;
    private final Duration timeout;

    LastPositionReader(Consumer<byte[], byte[]> consumer, Duration timeout) {
        this.consumer = consumer;
        this.timeout = timeout;
    }

    Optional<OutboxPosition> highest(List<String> topics) throws TargetException {
        OutboxPosition best = null;
        for (String topic : topics) {
            List<PartitionInfo> partitions = consumer.partitionsFor(topic, timeout);
            for (PartitionInfo p : partitions == null ? List.<PartitionInfo>of() : partitions) {
                OutboxPosition last = lastIn(new TopicPartition(topic, p.partition()));
                if (last != null && (best == null || last.compareTo(best) > 0)) {
                    best = last;
                }
            }
        }
        return Optional.ofNullable(best);
    }

    private OutboxPosition lastIn(TopicPartition tp) throws TargetException {
        consumer.assign(List.of(tp));
        long start = consumer.beginningOffsets(List.of(tp), timeout).get(tp);
        long end = consumer.endOffsets(List.of(tp), timeout).get(tp);
        long window = FIRST_WINDOW;
        long to = end;
        while (to > start) {
            long from = Math.max(start, end - window);
            OutboxPosition found = highestBetween(tp, from, to);
            if (found != null) {
                return found;
            }
            to = from;
            window *= 2;
        }
        return null;
    }

    /** The highest position among the committed records of {@code [from, to)}, or null when none has one. */
    private OutboxPosition highestBetween(TopicPartition tp, long from, long to) throws TargetException {
        consumer.seek(tp, from);
        OutboxPosition best = null;
        long deadline = System.nanoTime() + timeout.toNanos();
        // The position passes skipped markers and aborted records too, so it reaches `to`.
        while (consumer.position(tp, timeout) < to) {
            if (System.nanoTime() > deadline) {
                throw new TargetException("reading " + tp + " from offset " + from + " to " + to + " took over "
                        + timeout.toMillis() + " ms; is the broker overloaded?", true);
            }
            for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                if (r.offset() >= to) {
                    break;
                }
                OutboxPosition p = positionOf(r);
                if (p != null && (best == null || p.compareTo(best) > 0)) {
                    best = p;
                }
            }
        }
        return best;
    }

    private static OutboxPosition positionOf(ConsumerRecord<byte[], byte[]> r) throws TargetException {
        Header h = r.headers().lastHeader(Headers.POSITION);
        if (h == null || h.value() == null) {
            return null; // written by someone else: not ours to count
        }
        String text = new String(h.value(), StandardCharsets.UTF_8);
        try {
            return OutboxPosition.parse(text);
        } catch (IllegalArgumentException e) {
            throw new TargetException("record " + r.topic() + "/" + r.partition() + "/" + r.offset() + " has header "
                    + Headers.POSITION + "=\"" + text + "\", not <offset>:<row_index>; another producer writes this "
                    + "relay's header to the topic: give the pipeline a topic of its own", false, e);
        }
    }

}
