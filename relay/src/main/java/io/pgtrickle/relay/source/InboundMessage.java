package io.pgtrickle.relay.source;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * One message a reverse pipeline consumed.
 *
 * @param source where it came from: the topic, subject or stream key
 * @param partition the part of the source its position counts in ({@code topic-3} for Kafka; the
 *     stream for NATS and Redis)
 * @param position its position there, as text (Kafka offset, stream sequence, entry id)
 * @param coordinates a unique name of this message in its source, e.g.
 *     {@code kafka:orders/3/1042}: the event id when no header or field gives one
 * @param key the message key, or {@code null}
 * @param value the payload bytes
 * @param headers header names to values (one value per name: a source keeps the last of repeated values)
 * @param timestamp when the source stored it, or {@code null}
 */
public record InboundMessage(String source, String partition, String position, String coordinates, byte[] key,
                             byte[] value, Map<String, String> headers, Instant timestamp) {
    public InboundMessage {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(partition, "partition");
        Objects.requireNonNull(position, "position");
        Objects.requireNonNull(coordinates, "coordinates");
        value = value == null ? new byte[0] : value;
        headers = Map.copyOf(headers);
    }
}
