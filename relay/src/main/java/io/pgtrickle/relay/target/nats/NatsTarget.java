package io.pgtrickle.relay.target.nats;

import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.PublishOptions;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.pgtrickle.core.outbox.OutboxPosition;
import io.pgtrickle.format.Headers;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.nats.NatsConnections;
import io.pgtrickle.relay.target.OutboundMessage;
import io.pgtrickle.relay.target.PublishResult;
import io.pgtrickle.relay.target.Target;
import io.pgtrickle.relay.target.TargetException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Publishes to a NATS JetStream stream. Each message carries {@code Nats-Msg-Id = dedup_key}, so a
 * repeat within the stream's duplicate window is refused by the server ({@link PublishAck#isDuplicate()});
 * beyond the window, {@link #lastPublished()} reads the position back from the last message of each
 * subject, so the pipeline does not publish it again.
 */
public final class NatsTarget implements Target {
    /** JetStream's error code for "stream not found". */
    private static final int STREAM_NOT_FOUND = 10059;
    /** JetStream's error code for "no message found". */
    private static final int NO_MESSAGE_FOUND = 10037;
    private static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(10);

    private final SinkConfig.Nats config;
    private final String streamTable;
    private final Duration timeout;
    private Connection connection;
    private JetStream jetStream;
    private JetStreamManagement management;
    /** Sent since the last flush, in order, with their acks to await. */
    private final List<CompletableFuture<PublishAck>> unacked = new ArrayList<>();
    private final List<OutboundMessage> unackedMessages = new ArrayList<>();

    public NatsTarget(SinkConfig.Nats config, String streamTable) {
        this(config, streamTable, DEFAULT_TIMEOUT);
    }

    /** {@code timeout} bounds connecting, each management request and the wait for a batch's acks. */
    public NatsTarget(SinkConfig.Nats config, String streamTable, Duration timeout) {
        this.config = config;
        this.streamTable = streamTable;
        this.timeout = timeout;
    }

    @Override
    public String describe() {
        return "nats " + config.endpoint().url() + " stream " + config.stream() + " subject " + config.subject();
    }

    @Override
    public void open() throws TargetException {
        try {
            connection = NatsConnections.connect(config.endpoint(), timeout);
            management = connection.jetStreamManagement();
            jetStream = connection.jetStream();
        } catch (IOException e) {
            throw new TargetException("cannot connect to NATS at " + config.endpoint().url() + ": " + e.getMessage(), true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TargetException("interrupted while connecting to NATS at " + config.endpoint().url(), true, e);
        }
        try {
            StreamInfo info = streamInfo();
            if (info == null) {
                createStream();
            } else {
                check(info.getConfiguration());
            }
        } catch (IOException e) {
            throw new TargetException("NATS at " + config.endpoint().url() + " did not answer about stream "
                    + config.stream() + ": " + e.getMessage(), true, e);
        } catch (JetStreamApiException e) {
            throw new TargetException("NATS refused stream " + config.stream() + ": " + e.getMessage(), false, e);
        }
    }

    private StreamInfo streamInfo() throws IOException, JetStreamApiException {
        try {
            return management.getStreamInfo(config.stream());
        } catch (JetStreamApiException e) {
            if (e.getApiErrorCode() == STREAM_NOT_FOUND) {
                return null;
            }
            throw e;
        }
    }

    private void createStream() throws TargetException, IOException, JetStreamApiException {
        if (!config.createStream()) {
            throw new TargetException("JetStream stream " + config.stream() + " does not exist at "
                    + config.endpoint().url() + "; create it with subjects " + streamSubjects()
                    + " and a duplicate window of at least " + config.duplicateWindow()
                    + ", or set create_stream = true", false);
        }
        management.addStream(StreamConfiguration.builder()
                .name(config.stream())
                .subjects(streamSubjects())
                .storageType(StorageType.File)
                .duplicateWindow(config.duplicateWindow())
                .build());
    }

    /**
     * The subjects of a stream this target creates: the template with {@code {op}} as {@code *} when
     * {@code {op}} is a whole subject token (a wildcard must be one), else the literal expansions.
     */
    List<String> streamSubjects() {
        String wildcard = config.subject().text().replace("{stream_table}", streamTable).replace("{op}", "*");
        for (String token : wildcard.split("\\.", -1)) {
            if (token.contains("*") && !token.equals("*")) {
                return config.subject().expansions(streamTable);
            }
        }
        return List.of(wildcard);
    }

    private void check(StreamConfiguration existing) throws TargetException, IOException, JetStreamApiException {
        Duration window = existing.getDuplicateWindow();
        if (window == null || window.compareTo(config.duplicateWindow()) < 0) {
            throw new TargetException("JetStream stream " + config.stream() + " has a duplicate window of " + window
                    + ", shorter than the pipeline's duplicate_window " + config.duplicateWindow()
                    + ": a relay down longer than the stream's window could publish a change twice; raise the stream's"
                    + " duplicate window (nats stream edit " + config.stream() + " --dupe-window "
                    + config.duplicateWindow().toSeconds() + "s) or lower duplicate_window", false);
        }
        for (String subject : config.subject().expansions(streamTable)) {
            // The server matches subjects against the stream's wildcards: a literal subject is covered
            // exactly when the stream is among those whose subjects match it.
            if (!management.getStreamNames(subject).contains(config.stream())) {
                throw new TargetException("JetStream stream " + config.stream() + " (subjects " + existing.getSubjects()
                        + ") does not take subject " + subject + "; add it to the stream's subjects or change the"
                        + " pipeline's subject template " + config.subject(), false);
            }
        }
    }

    @Override
    public Optional<OutboxPosition> lastPublished() throws TargetException {
        OutboxPosition highest = null;
        for (String subject : config.subject().expansions(streamTable)) {
            MessageInfo last;
            try {
                last = management.getLastMessage(config.stream(), subject);
            } catch (JetStreamApiException e) {
                if (e.getApiErrorCode() == NO_MESSAGE_FOUND) {
                    continue;
                }
                throw new TargetException("NATS refused reading the last message of " + subject + " in stream "
                        + config.stream() + ": " + e.getMessage(), false, e);
            } catch (IOException e) {
                throw new TargetException("NATS at " + config.endpoint().url() + " did not answer for the last message of "
                        + subject + ": " + e.getMessage(), true, e);
            }
            String position = last.getHeaders() == null ? null : last.getHeaders().getFirst(Headers.POSITION);
            if (position == null) {
                // Not one of the relay's messages (no position header): it says nothing about ours.
                continue;
            }
            OutboxPosition p = OutboxPosition.parse(position);
            if (highest == null || p.compareTo(highest) > 0) {
                highest = p;
            }
        }
        return Optional.ofNullable(highest);
    }

    /** Publishes each message asynchronously: the acks are awaited by {@link #flush}. */
    @Override
    public void send(List<OutboundMessage> batch) throws TargetException {
        try {
            for (OutboundMessage m : batch) {
                io.nats.client.impl.Headers headers = new io.nats.client.impl.Headers();
                for (Map.Entry<String, String> h : m.message().headers().entrySet()) {
                    headers.put(h.getKey(), h.getValue());
                }
                byte[] payload = m.message().value() == null ? new byte[0]
                        : m.message().value().getBytes(StandardCharsets.UTF_8);
                unacked.add(jetStream.publishAsync(m.destination(), headers, payload,
                        PublishOptions.builder().messageId(m.dedupKey()).stream(config.stream()).build()));
                unackedMessages.add(m);
            }
        } catch (IllegalStateException e) {
            throw new TargetException("NATS connection to " + config.endpoint().url() + " is closed: " + e.getMessage(),
                    true, e);
        }
    }

    @Override
    public PublishResult flush() throws TargetException {
        long deadline = System.nanoTime() + timeout.toNanos();
        int published = 0;
        int deduplicated = 0;
        try {
            for (int i = 0; i < unacked.size(); i++) {
                PublishAck ack = await(unacked.get(i), deadline, unackedMessages.get(i));
                if (ack.isDuplicate()) {
                    deduplicated++;
                } else {
                    published++;
                }
            }
        } finally {
            unacked.clear();
            unackedMessages.clear();
        }
        return new PublishResult(published, deduplicated);
    }

    private PublishAck await(CompletableFuture<PublishAck> ack, long deadline, OutboundMessage m) throws TargetException {
        try {
            return ack.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            throw new TargetException("no JetStream ack for " + m.dedupKey() + " on " + m.destination() + " within "
                    + timeout + " from " + config.endpoint().url(), true, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TargetException("interrupted while awaiting JetStream acks", true, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            // An API error (a stream limit, a wrong subject) will not go away by retrying;
            // anything else (no responders, a lost connection) is the server being away.
            boolean retriable = !(cause instanceof JetStreamApiException);
            throw new TargetException("JetStream refused " + m.dedupKey() + " on " + m.destination() + ": "
                    + cause.getMessage(), retriable, cause);
        }
    }

    @Override
    public void close() {
        if (connection != null) {
            try {
                connection.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            connection = null;
        }
    }
}
