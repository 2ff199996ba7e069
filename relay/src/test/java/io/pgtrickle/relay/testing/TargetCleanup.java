package io.pgtrickle.relay.testing;

import io.nats.client.Connection;
import io.nats.client.Nats;
import redis.clients.jedis.RedisClient;

/**
 * Best-effort removal of what a test made on the shared servers (a Redis key, a JetStream stream),
 * so reruns and other tests start clean; a failure here never hides the test's own outcome.
 */
public final class TargetCleanup {
    private TargetCleanup() {
    }

    /** Deletes {@code key} on the Redis at {@code host:port}. */
    public static void redisKey(String host, int port, String key) {
        try (RedisClient redis = RedisClient.builder().hostAndPort(host, port).build()) {
            redis.del(key);
        } catch (RuntimeException ignored) {
            // best effort
        }
    }

    /** Deletes the JetStream stream {@code stream} at {@code url}. */
    public static void natsStream(String url, String stream) {
        try (Connection nats = Nats.connect(url)) {
            nats.jetStreamManagement().deleteStream(stream);
        } catch (Exception ignored) {
            // best effort: the stream may never have been created
        }
    }
}
