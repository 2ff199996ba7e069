package io.pgtrickle.relay.runtime;

import io.pgtrickle.relay.config.SourceConfig;
import io.pgtrickle.relay.source.EventSource;
import io.pgtrickle.relay.source.kafka.KafkaEventSource;
import io.pgtrickle.relay.source.nats.NatsEventSource;
import io.pgtrickle.relay.source.redis.RedisEventSource;

/** The event source of a reverse pipeline. */
final class Sources {
    private Sources() {
    }

    static EventSource create(SourceConfig source) {
        if (source instanceof SourceConfig.Kafka k) {
            return new KafkaEventSource(k);
        }
        if (source instanceof SourceConfig.Nats n) {
            return new NatsEventSource(n);
        }
        if (source instanceof SourceConfig.Redis r) {
            return new RedisEventSource(r);
        }
        throw new IllegalArgumentException("not a reverse source: " + source.getClass().getSimpleName());
    }
}
