package io.pgtrickle.bench.messaging;

import io.pgtrickle.relay.target.OutboundMessage;
import java.util.List;
import java.util.function.Consumer;

/**
 * A messaging server as the relay bench and the demo use it: how the relay publishes to it (its
 * {@code [pipeline.sink]} block), a direct client writing the same messages without the relay (the
 * physical limit of the server here), and an independent reader of what arrived.
 */
public interface Messaging extends AutoCloseable {
    /** {@code kafka}, {@code nats} or {@code redis}. */
    String name();

    /** The server, for the report. */
    String server();

    /** Makes {@code destination} exist and empty (a topic, a stream, a stream key). */
    void prepare(String destination) throws Exception;

    /** The body of the relay's {@code [pipeline.sink]} table publishing to {@code destination}. */
    String sinkToml(String destination);

    /** The destination messages of {@link #publishDirect} must carry for {@code destination}. */
    String messageDestination(String destination);

    /** Writes the messages with the plain client, {@code batchSize} in flight; returns when all are acknowledged. */
    void publishDirect(List<OutboundMessage> messages, int batchSize) throws Exception;

    /** Reads {@code destination} from its start on a thread of its own, passing each message's value on arrival. */
    AutoCloseable read(String destination, Consumer<byte[]> onMessage) throws Exception;

    /** Removes {@code destination}. */
    void remove(String destination) throws Exception;
}
