package io.pgtrickle.relay.redis;

import io.pgtrickle.relay.config.RedisEndpoint;
import java.net.URI;
import java.time.Duration;
import redis.clients.jedis.DefaultJedisClientConfig;
import redis.clients.jedis.HostAndPort;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.util.JedisURIHelper;

/** Creates Redis clients for the relay's Redis target and source. */
public final class RedisClients {
    private RedisClients() {
    }

    /**
     * A client for {@code redis://host:port[/db]} (or {@code rediss://} for TLS) with the endpoint's
     * user and password (they win over any in the URL); connecting and every reply wait at most
     * {@code timeout}.
     *
     * @throws IllegalArgumentException when the URL is not a Redis URL
     */
    public static RedisClient create(RedisEndpoint endpoint, Duration timeout) {
        URI uri = URI.create(endpoint.url());
        if (!JedisURIHelper.isValid(uri) || !(JedisURIHelper.isRedisScheme(uri) || JedisURIHelper.isRedisSSLScheme(uri))) {
            throw new IllegalArgumentException("not a Redis URL: " + endpoint.url()
                    + "; write redis://host:port[/db] or rediss://host:port[/db]");
        }
        HostAndPort hostAndPort = JedisURIHelper.getHostAndPort(uri);
        int millis = (int) Math.min(Integer.MAX_VALUE, timeout.toMillis());
        DefaultJedisClientConfig.Builder config = DefaultJedisClientConfig.builder()
                .connectionTimeoutMillis(millis)
                .socketTimeoutMillis(millis)
                .ssl(JedisURIHelper.isRedisSSLScheme(uri))
                .clientName("pgtrickle-relay");
        String user = endpoint.user() != null ? endpoint.user() : JedisURIHelper.getUser(uri);
        String password = endpoint.password() != null ? endpoint.password().reveal() : JedisURIHelper.getPassword(uri);
        if (user != null) {
            config.user(user);
        }
        if (password != null) {
            config.password(password);
        }
        if (JedisURIHelper.hasDbIndex(uri)) {
            config.database(JedisURIHelper.getDBIndex(uri));
        }
        return RedisClient.builder().hostAndPort(hostAndPort).clientConfig(config.build()).build();
    }
}
