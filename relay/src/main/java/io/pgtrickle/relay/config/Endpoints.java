package io.pgtrickle.relay.config;

import java.util.List;
import java.util.Map;

/** The connection keys Kafka, NATS and Redis sources and sinks share. */
final class Endpoints {
    private static final List<String> NATS_SCHEMES = List.of("nats://", "tls://", "ws://", "wss://");
    private static final List<String> REDIS_SCHEMES = List.of("redis://", "rediss://");

    private Endpoints() {
    }

    static KafkaEndpoint kafka(TableReader r) {
        String servers = r.nonBlank(ConfigKey.KAFKA_BOOTSTRAP_SERVERS);
        Map<String, Secret> properties = r.properties(ConfigKey.KAFKA_PROPERTIES);
        return servers == null ? null : new KafkaEndpoint(servers, properties);
    }

    static NatsEndpoint nats(TableReader r) {
        String url = url(r, ConfigKey.NATS_URL, NATS_SCHEMES);
        String user = r.string(ConfigKey.NATS_USER);
        Secret password = r.secret(ConfigKey.NATS_PASSWORD);
        Secret token = r.secret(ConfigKey.NATS_TOKEN);
        boolean ok = credentials(r, user, password, ConfigKey.NATS_PASSWORD);
        if (token != null && (user != null || password != null)) {
            r.problem(ConfigKey.NATS_TOKEN, "give either token or user and password, not both; remove one");
            ok = false;
        }
        return url == null || !ok ? null : new NatsEndpoint(url, user, password, token);
    }

    static RedisEndpoint redis(TableReader r) {
        String url = url(r, ConfigKey.REDIS_URL, REDIS_SCHEMES);
        String user = r.string(ConfigKey.REDIS_USER);
        Secret password = r.secret(ConfigKey.REDIS_PASSWORD);
        if (user != null && password == null) {
            r.problem(ConfigKey.REDIS_USER, "user '" + user + "' needs a password; add password = \"${ENV:...}\"");
            return null;
        }
        return url == null ? null : new RedisEndpoint(url, user, password);
    }

    private static boolean credentials(TableReader r, String user, Secret password, ConfigKey passwordKey) {
        if ((user == null) != (password == null)) {
            r.problem(user == null ? passwordKey : ConfigKey.NATS_USER,
                    "user and password go together; give both or neither");
            return false;
        }
        return true;
    }

    private static String url(TableReader r, ConfigKey key, List<String> schemes) {
        String url = r.nonBlank(key);
        if (url != null && schemes.stream().noneMatch(url::startsWith)) {
            r.problem(key, "bad URL \"" + url + "\"; it must start with " + String.join(" or ", schemes));
            return null;
        }
        return url;
    }
}
