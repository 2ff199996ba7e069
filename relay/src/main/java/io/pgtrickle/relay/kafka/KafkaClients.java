package io.pgtrickle.relay.kafka;

import io.pgtrickle.relay.config.KafkaEndpoint;
import io.pgtrickle.relay.config.Secret;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/** Client properties and error classification the Kafka target and source share. */
public final class KafkaClients {
    private static final long DEFAULT_MAX_BLOCK_MS = 60_000;
    private static final long DEFAULT_API_TIMEOUT_MS = 60_000;

    private KafkaClients() {
    }

    /** The endpoint's bootstrap servers and properties (secrets revealed), then {@code fixed} on top. */
    public static Map<String, Object> properties(KafkaEndpoint endpoint, Map<String, Object> fixed) {
        Map<String, Object> props = new HashMap<>();
        for (Map.Entry<String, Secret> e : endpoint.properties().entrySet()) {
            props.put(e.getKey(), e.getValue().reveal());
        }
        props.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, endpoint.bootstrapServers());
        props.putAll(fixed);
        return props;
    }

    /** The producer's properties: byte arrays, and whatever the caller fixes (transactions). */
    public static Map<String, Object> producer(KafkaEndpoint endpoint, Map<String, Object> fixed) {
        Map<String, Object> all = new HashMap<>(fixed);
        all.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        all.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return properties(endpoint, all);
    }

    /**
     * A consumer without a group that reads only committed records as byte arrays; the endpoint's
     * producer-only properties are left out so the consumer does not warn about each of them.
     */
    public static Map<String, Object> readCommittedConsumer(KafkaEndpoint endpoint) {
        Map<String, Object> props = only(properties(endpoint, Map.of()), ConsumerConfig.configNames());
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        props.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, false);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        props.remove(ConsumerConfig.GROUP_ID_CONFIG);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return props;
    }

    public static Map<String, Object> admin(KafkaEndpoint endpoint) {
        return only(properties(endpoint, Map.of()), AdminClientConfig.configNames());
    }

    /** How long a producer call may block: the endpoint's {@code max.block.ms}, else Kafka's default. */
    public static Duration maxBlock(KafkaEndpoint endpoint) {
        return millis(endpoint, ProducerConfig.MAX_BLOCK_MS_CONFIG, DEFAULT_MAX_BLOCK_MS);
    }

    /** How long a consumer or admin call may take: {@code default.api.timeout.ms}, else Kafka's default. */
    public static Duration apiTimeout(KafkaEndpoint endpoint) {
        return millis(endpoint, CommonClientConfigs.DEFAULT_API_TIMEOUT_MS_CONFIG, DEFAULT_API_TIMEOUT_MS);
    }

    /** Whether trying again later can help: a timeout or an error Kafka marks retriable, anywhere in the chain. */
    public static boolean retriable(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof TimeoutException || c instanceof RetriableException
                    || c instanceof java.util.concurrent.TimeoutException) {
                return true;
            }
        }
        return false;
    }

    /**
     * The messages of the chain, outermost first, repeats left out: Kafka wraps the error that
     * names the problem (a record too large, an authorization) in generic ones.
     */
    public static String messages(Throwable t) {
        LinkedHashSet<String> all = new LinkedHashSet<>();
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c.getMessage() != null) {
                all.add(c.getMessage());
            }
        }
        return all.isEmpty() ? t.getClass().getName() : String.join(": ", all);
    }

    /** The first cause of {@code type} in the chain, or null. */
    public static <T extends Throwable> T causeOf(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return type.cast(c);
            }
        }
        return null;
    }

    private static Duration millis(KafkaEndpoint endpoint, String key, long defaultMs) {
        Secret value = endpoint.properties().get(key);
        if (value == null) {
            return Duration.ofMillis(defaultMs);
        }
        try {
            return Duration.ofMillis(Long.parseLong(value.reveal().trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("Kafka property " + key + " must be a number of milliseconds, not \""
                    + value.reveal() + "\"", e);
        }
    }

    private static Map<String, Object> only(Map<String, Object> props, Set<String> known) {
        Map<String, Object> out = new HashMap<>();
        props.forEach((k, v) -> {
            if (known.contains(k)) {
                out.put(k, v);
            }
        });
        return out;
    }
}
