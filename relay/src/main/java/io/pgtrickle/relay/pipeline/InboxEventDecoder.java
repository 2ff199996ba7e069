package io.pgtrickle.relay.pipeline;

import io.pgtrickle.format.InboxDecoder;
import io.pgtrickle.relay.config.SinkConfig;
import io.pgtrickle.relay.source.InboundMessage;

/**
 * A reverse pipeline's decoding of consumed messages into inbox events: change-format's
 * {@link InboxDecoder} (shared with the Kafka Connect sink) with the pipeline's rules.
 */
final class InboxEventDecoder {
    private final InboxDecoder decoder;

    InboxEventDecoder(SinkConfig.Inbox sink) {
        this.decoder = new InboxDecoder(InboxDecoder.Rules.of(sink.eventId(), sink.eventType(), sink.aggregateId()));
    }

    InboxDecoder.Decoded decode(InboundMessage m) {
        return decoder.decode(new InboxDecoder.Message(m.source(), m.coordinates(), m.headers(), m.value()));
    }
}
