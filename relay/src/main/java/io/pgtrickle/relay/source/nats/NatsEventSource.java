package io.pgtrickle.relay.source.nats;

import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.pgtrickle.relay.config.SourceConfig;
import io.pgtrickle.relay.nats.NatsConnections;
import io.pgtrickle.relay.source.EventSource;
import io.pgtrickle.relay.source.InboundMessage;
import io.pgtrickle.relay.source.SourceException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeoutException;

/**
 * Consumes a JetStream stream through a durable pull consumer with explicit acks. A message is
 * acked only after the inbox committed it; one never acked (a crash) comes again after the
 * consumer's ack wait, and one still unacked at {@link #close()} is nak'ed so it comes again at once.
 */
public final class NatsEventSource implements EventSource {
    /** JetStream's error codes for "stream not found" and "consumer not found". */
    private static final int STREAM_NOT_FOUND = 10059;
    private static final int CONSUMER_NOT_FOUND = 10014;
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);
    private static final Duration DEFAULT_ACK_WAIT = Duration.ofSeconds(30);

    private final SourceConfig.Nats config;
    private final Duration timeout;
    private final Duration ackWait;
    /** Polled, not yet acknowledged, by coordinates. */
    private final Map<String, Message> unacknowledged = new LinkedHashMap<>();
    private Connection connection;
    private JetStreamSubscription subscription;

    public NatsEventSource(SourceConfig.Nats config) {
        this(config, DEFAULT_TIMEOUT, DEFAULT_ACK_WAIT);
    }

    /**
     * @param timeout bounds connecting, consumer management and each ack
     * @param ackWait of a consumer this source creates: how long a delivered, unacked message waits
     *     before JetStream delivers it again
     */
    public NatsEventSource(SourceConfig.Nats config, Duration timeout, Duration ackWait) {
        this.config = config;
        this.timeout = timeout;
        this.ackWait = ackWait;
    }

    @Override
    public String describe() {
        return "nats " + config.endpoint().url() + " stream " + config.stream() + " subject " + config.subject()
                + " durable " + config.durable();
    }

    @Override
    public void open(Map<String, String> committed) throws SourceException {
        try {
            connection = NatsConnections.connect(config.endpoint(), timeout);
            JetStreamManagement management = connection.jetStreamManagement();
            ensureConsumer(management);
            subscription = connection.jetStream().subscribe(config.subject(),
                    PullSubscribeOptions.bind(config.stream(), config.durable()));
        } catch (IOException e) {
            throw new SourceException("cannot reach NATS at " + config.endpoint().url() + ": " + e.getMessage(), true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SourceException("interrupted while connecting to NATS at " + config.endpoint().url(), true, e);
        } catch (JetStreamApiException e) {
            throw new SourceException("NATS refused durable consumer " + config.durable() + " on stream "
                    + config.stream() + ": " + e.getMessage(), false, e);
        }
    }

    private void ensureConsumer(JetStreamManagement management) throws IOException, JetStreamApiException, SourceException {
        try {
            management.getConsumerInfo(config.stream(), config.durable());
            return;
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == STREAM_NOT_FOUND) {
                throw new SourceException("JetStream stream " + config.stream() + " does not exist at "
                        + config.endpoint().url() + "; create it (with subject " + config.subject()
                        + ") or fix the pipeline's source stream", false, e);
            }
            if (e.getApiErrorCode() != CONSUMER_NOT_FOUND) {
                throw e;
            }
        }
        management.addOrUpdateConsumer(config.stream(), ConsumerConfiguration.builder()
                .durable(config.durable())
                .filterSubject(config.subject())
                .ackPolicy(AckPolicy.Explicit)
                .deliverPolicy(DeliverPolicy.All)
                .ackWait(ackWait)
                .build());
    }

    @Override
    public List<InboundMessage> poll(int maxMessages, Duration timeout) throws SourceException {
        List<Message> fetched;
        try {
            fetched = subscription.fetch(maxMessages, timeout);
        } catch (IllegalStateException e) {
            throw new SourceException("NATS connection to " + config.endpoint().url() + " is closed: " + e.getMessage(),
                    true, e);
        }
        List<InboundMessage> out = new ArrayList<>(fetched.size());
        for (Message m : fetched) {
            if (!m.isJetStream()) {
                continue; // a status message (e.g. request timeout), not a stream message
            }
            InboundMessage in = inbound(m);
            unacknowledged.put(in.coordinates(), m);
            out.add(in);
        }
        return out;
    }

    private static InboundMessage inbound(Message m) {
        long sequence = m.metaData().streamSequence();
        String stream = m.metaData().getStream();
        Map<String, String> headers = new LinkedHashMap<>();
        if (m.getHeaders() != null) {
            for (String name : m.getHeaders().keySet()) {
                headers.put(name, m.getHeaders().getFirst(name));
            }
        }
        return new InboundMessage(m.getSubject(), stream, Long.toString(sequence), "nats:" + stream + "/" + sequence,
                null, m.getData(), headers, m.metaData().timestamp() == null ? null : m.metaData().timestamp().toInstant());
    }

    @Override
    public void acknowledge(List<InboundMessage> committed) throws SourceException {
        List<Message> messages = new ArrayList<>(committed.size());
        for (InboundMessage in : committed) {
            Message m = unacknowledged.remove(in.coordinates());
            if (m != null) {
                messages.add(m);
            }
        }
        if (messages.isEmpty()) {
            return;
        }
        try {
            // The server handles one connection's acks in order: when the last one is confirmed,
            // every earlier one has been handled, so one round trip confirms the batch.
            for (int i = 0; i < messages.size() - 1; i++) {
                messages.get(i).ack();
            }
            messages.get(messages.size() - 1).ackSync(timeout);
        } catch (TimeoutException e) {
            throw new SourceException("NATS at " + config.endpoint().url() + " did not confirm acks within " + timeout
                    + "; unconfirmed messages come again and the inbox skips them", true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new SourceException("interrupted while acking NATS messages", true, e);
        } catch (IllegalStateException e) {
            throw new SourceException("NATS connection to " + config.endpoint().url() + " is closed: " + e.getMessage(),
                    true, e);
        }
    }

    @Override
    public void close() {
        if (connection == null) {
            return;
        }
        try {
            // Not committed to the inbox: ask for them again now rather than after the ack wait.
            unacknowledged.values().forEach(Message::nak);
            connection.flush(timeout);
        } catch (RuntimeException | TimeoutException | InterruptedException e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            // They come again after the ack wait instead.
        }
        unacknowledged.clear();
        try {
            connection.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        connection = null;
    }
}
