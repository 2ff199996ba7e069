package io.pgtrickle.relay.target;

import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.format.EncodedMessage;
import io.pgtrickle.format.Headers;
import java.util.Objects;

/**
 * One message for a target.
 *
 * @param destination the topic, subject or stream key, with its template already expanded
 * @param message key, value and headers; the headers hold {@link Headers#DEDUP_KEY} and
 *     {@link Headers#POSITION}
 * @param position the change's outbox position
 * @param dedupKey the change's identity, {@code <stream_table>:<offset>:<row_index>}
 */
public record OutboundMessage(String destination, EncodedMessage message, OutboxPosition position, String dedupKey) {
    public OutboundMessage {
        Objects.requireNonNull(destination, "destination");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(position, "position");
        Objects.requireNonNull(dedupKey, "dedupKey");
    }
}
