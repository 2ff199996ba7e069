package io.pgtrickle.bench.messaging;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.ErrorListener;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PublishOptions;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.pgtrickle.relay.target.OutboundMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * NATS JetStream: one file-backed stream per destination, as the relay would create it (duplicate
 * window of two minutes); the direct client publishes asynchronously with the same message ids,
 * awaiting each window of acks; the reader is an ordered push consumer.
 */
public final class NatsMessaging implements Messaging {
    private static final Duration DUPLICATE_WINDOW = Duration.ofMinutes(2);

    private final String url;
    private final Connection connection;

    public NatsMessaging(String url) throws Exception {
        this.url = url;
        this.connection = Nats.connect(url);
    }

    @Override
    public String name() {
        return "nats";
    }

    @Override
    public String server() {
        return url;
    }

    private static String stream(String destination) {
        return destination.toUpperCase(Locale.ROOT);
    }

    private static String subjects(String destination) {
        return destination + ".>";
    }

    @Override
    public void prepare(String destination) throws Exception {
        remove(destination);
        connection.jetStreamManagement().addStream(StreamConfiguration.builder().name(stream(destination))
                .subjects(subjects(destination)).storageType(StorageType.File).duplicateWindow(DUPLICATE_WINDOW)
                .build());
    }

    @Override
    public String sinkToml(String destination) {
        return "type = \"nats\"\nurl = \"" + url + "\"\nstream = \"" + stream(destination) + "\"\nsubject = \""
                + destination + ".{op}\"\ncreate_stream = false\n";
    }

    @Override
    public String messageDestination(String destination) {
        return destination + ".insert";
    }

    @Override
    public void publishDirect(List<OutboundMessage> messages, int batchSize) throws Exception {
        JetStream js = connection.jetStream();
        List<CompletableFuture<PublishAck>> window = new ArrayList<>(batchSize);
        for (OutboundMessage m : messages) {
            Headers headers = new Headers();
            m.message().headers().forEach(headers::put);
            window.add(js.publishAsync(m.destination(), headers, m.message().value().getBytes(StandardCharsets.UTF_8),
                    PublishOptions.builder().messageId(m.dedupKey()).build()));
            if (window.size() == batchSize) {
                awaitAll(window);
            }
        }
        awaitAll(window);
    }

    private static void awaitAll(List<CompletableFuture<PublishAck>> window) throws Exception {
        for (CompletableFuture<PublishAck> ack : window) {
            ack.get(30, TimeUnit.SECONDS);
        }
        window.clear();
    }

    @Override
    public AutoCloseable read(String destination, Consumer<byte[]> onMessage) throws Exception {
        // Quiet: the default listener logs every flow-control round trip of an ordered consumer.
        Connection reader = Nats.connect(new Options.Builder().server(url).errorListener(new ErrorListener() {
        }).build());
        Dispatcher dispatcher = reader.createDispatcher();
        reader.jetStream().subscribe(subjects(destination), dispatcher, m -> onMessage.accept(m.getData()), false,
                PushSubscribeOptions.builder().stream(stream(destination)).ordered(true).build());
        return reader::close;
    }

    @Override
    public void remove(String destination) throws Exception {
        JetStreamManagement jsm = connection.jetStreamManagement();
        try {
            jsm.deleteStream(stream(destination));
        } catch (JetStreamApiException e) {
            if (e.getErrorCode() != 404) {
                throw e;
            }
        }
    }

    @Override
    public void close() throws Exception {
        connection.close();
    }
}
