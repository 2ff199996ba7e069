package io.pgtrickle.bench.messaging;

import io.pgtrickle.relay.target.OutboundMessage;
import java.net.URI;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import redis.clients.jedis.AbstractPipeline;
import redis.clients.jedis.RedisClient;
import redis.clients.jedis.StreamEntryID;
import redis.clients.jedis.params.XAddParams;
import redis.clients.jedis.params.XReadParams;
import redis.clients.jedis.resps.StreamEntry;

/**
 * Redis Streams: the direct client pipelines {@code XADD}s with server-chosen ids, one round trip
 * per batch; the reader loops on a blocking {@code XREAD}.
 */
public final class RedisMessaging implements Messaging {
    private final String url;
    private final String host;
    private final int port;
    private final RedisClient client;

    public RedisMessaging(String url) {
        URI uri = URI.create(url);
        if (!"redis".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new IllegalArgumentException("--redis-url must look like redis://host:port, got " + url);
        }
        this.url = url;
        this.host = uri.getHost();
        this.port = uri.getPort() < 0 ? 6379 : uri.getPort();
        this.client = RedisClient.builder().hostAndPort(host, port).build();
    }

    @Override
    public String name() {
        return "redis";
    }

    @Override
    public String server() {
        return url;
    }

    @Override
    public void prepare(String key) {
        client.del(key);
    }

    @Override
    public String sinkToml(String key) {
        return "type = \"redis\"\nurl = \"" + url + "\"\nstream_key = \"" + key + "\"\n";
    }

    @Override
    public String messageDestination(String key) {
        return key;
    }

    @Override
    public void publishDirect(List<OutboundMessage> messages, int batchSize) {
        for (int from = 0; from < messages.size(); from += batchSize) {
            try (AbstractPipeline pipeline = client.pipelined()) {
                for (OutboundMessage m : messages.subList(from, Math.min(messages.size(), from + batchSize))) {
                    Map<String, String> fields = new LinkedHashMap<>(m.message().headers());
                    fields.put("key", m.message().key());
                    fields.put("value", m.message().value());
                    pipeline.xadd(m.destination(), XAddParams.xAddParams(), fields);
                }
                pipeline.sync();
            }
        }
    }

    @Override
    public AutoCloseable read(String key, Consumer<byte[]> onMessage) {
        RedisClient reader = RedisClient.builder().hostAndPort(host, port).build();
        StreamEntryID[] last = {new StreamEntryID()};
        return ReaderThread.start("redis-reader-" + key, () -> {
            List<Map.Entry<String, List<StreamEntry>>> read = reader.xread(XReadParams.xReadParams().count(5000)
                    .block(100), Map.of(key, last[0]));
            if (read == null) {
                return;
            }
            for (Map.Entry<String, List<StreamEntry>> stream : read) {
                for (StreamEntry e : stream.getValue()) {
                    String value = e.getFields().get("value");
                    onMessage.accept(value == null ? new byte[0] : value.getBytes(java.nio.charset.StandardCharsets.UTF_8));
                    last[0] = e.getID();
                }
            }
        }, () -> { }, reader::close);
    }

    @Override
    public void remove(String key) {
        client.del(key);
    }

    @Override
    public void close() {
        client.close();
    }
}
